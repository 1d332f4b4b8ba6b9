"""The dashboard: server-rendered pages for the practice, under ``/dashboard``.

Pages: the overview (open findings by class and severity, org coverage, the trend
over crawls), findings with filters and review decisions, people and a person's
reach, orgs and an org's page with a re-scan button, scans with live progress,
removal plans (made from a person or ticked findings, approved, run, followed live),
access reviews (progress by reviewer, and each reviewer's own list to decide),
what is expiring (access ends and accepted risks), and, for practice admins,
imports, crawl schedules and users (added, paired, their tokens revoked). Each page
has its files to download beside it (``pages.downloads``), cut to the viewer's scope
and audited like the API's exports.

Everything a page shows is read through the viewer's client scope with the same
functions the API uses (``server.queries``, ``server.actions``, ``agent.*``). A
person signs in with a pairing code and holds a session cookie, never an API token
(``server.dashboard.sessions``); every change is a same-origin form post with a
CSRF token (``server.security`` and ``server.dashboard.web``). Templates autoescape
all text, scripts and styles are files served from here (the dashboard's CSP
allows nothing else), and nothing is fetched from another site.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from server.dashboard.pages import (
    admin,
    downloads,
    expiring,
    findings,
    imports,
    orgs,
    overview,
    people,
    removals,
    review,
    scans,
    schedules,
    signin,
    statements,
)
from server.dashboard.web import (
    PREFIX,
    DashboardError,
    SignInRequired,
    dashboard_error,
    sign_in_required,
)

__all__ = ["PREFIX", "install"]

STATIC_DIR = Path(__file__).parent / "static"
PAGES = (
    signin,
    overview,
    findings,
    people,
    orgs,
    scans,
    schedules,
    imports,
    admin,
    schedules,
    statements,
    removals,
    review,
    expiring,
    downloads,
)


def install(app: FastAPI, *, port: int) -> None:
    """Add the dashboard's pages, static files and error pages to ``app``.

    ``port`` is the one the server listens on: the session cookie's name carries it.
    """
    app.state.dashboard_port = port
    for page in PAGES:
        app.include_router(page.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(DashboardError, dashboard_error)
