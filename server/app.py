"""The local server: the API the browser extension and the dashboard call.

``create_app`` builds the FastAPI app around a ``Runtime``; the server never
imports Playwright and never scans by itself (it queues scans for the worker).

Building the app is start-up: the secret key is proven against the database's
canary here (``agent.security.secrets.open_secret_box``), so a missing or wrong key stops the
server before it accepts a request. The request gate (``server.security``) and the
bearer-token dependencies (``server.deps``) hold the rules of DESIGN.md's "Security
of the local server"; ``/docs`` and ``/openapi.json`` exist only when enabled. The
dashboard (``server.dashboard``) lives under ``/dashboard`` with its own sign-in.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.middleware.cors import CORSMiddleware

from agent.runtime import Runtime
from agent.security.secrets import open_secret_box
from server.badge import BadgeCache
from server.body_limit import BodyLimit
from server.config import ServerSettings, allowed_hosts
from server.dashboard import PREFIX as DASHBOARD_PREFIX
from server.dashboard import install as install_dashboard
from server.dashboard.web import DashboardHome
from server.routes import (
    audit,
    campaigns,
    captures,
    expiring,
    exports,
    findings,
    fixtures,
    health,
    imports,
    logins,
    metrics,
    orgs,
    pairing,
    people,
    recipes,
    removals,
    scans,
    schedules,
    statements,
    users,
)
from server.security import RequestGuard, leaked_token_revoker

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/openapi.json")

ROUTERS = (
    health,
    pairing,
    users,
    orgs,
    captures,
    findings,
    people,
    scans,
    imports,
    exports,
    audit,
    logins,
    schedules,
    removals,
    statements,
    expiring,
    campaigns,
    recipes,
    fixtures,
)

#: Routes that answer without a token: liveness, and the exchange that yields a token.
PUBLIC_PATHS = frozenset({f"{API_PREFIX}/health", f"{API_PREFIX}/pairing/exchange"})


def _is_upload(path: str) -> bool:
    return path.startswith(f"{API_PREFIX}{imports.UPLOAD_PREFIX}")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, minus the echoed input: a rejected body may hold a password."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refused despite validation: the client's input, not a crash."""
    log.warning(
        "database refused a value on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    return JSONResponse(
        {"detail": "a value is out of range or not accepted by the database"}, status_code=422
    )


def create_app(
    runtime: Runtime | None = None,
    *,
    enable_docs: bool | None = None,
    server_settings: ServerSettings | None = None,
    port: int | None = None,
) -> FastAPI:
    """The API app. ``port`` is the one the server listens on (default: the settings').

    The port matters for security: the Host and Origin allow-lists name it.
    """
    runtime = runtime or Runtime()
    server_settings = server_settings or ServerSettings()
    docs = server_settings.api_docs if enable_docs is None else enable_docs
    listen_port = port or runtime.settings.port
    box = open_secret_box(
        runtime.engine, env_key=runtime.settings.secret_key, key_file=runtime.settings.key_file
    )
    app = FastAPI(
        title="accessrecon",
        version="0.1.0",
        summary="Who can get into each client ledger",
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect" if docs else None,
    )
    app.state.runtime = runtime
    app.state.box = box
    app.state.server_settings = server_settings
    app.state.badge_cache = BadgeCache(server_settings.badge_cache_seconds)
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(metrics.router)  # Prometheus's page, outside the API: routes/metrics.py
    install_dashboard(app, port=listen_port)
    app.add_middleware(DashboardHome)  # "/dashboard/" in one hop, as "/dashboard"
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)

    hosts = allowed_hosts(listen_port, server_settings.extra_hosts)
    dashboard_origins = {f"http://{host}" for host in hosts}
    uploads = (f"{API_PREFIX}{imports.UPLOAD_PREFIX}", f"{DASHBOARD_PREFIX}/imports")
    max_upload, too_large = imports.upload_limit(server_settings.max_upload_mb)
    app.add_middleware(
        BodyLimit,
        applies=lambda path: path.startswith(uploads),
        max_bytes=max_upload,
        detail=too_large,
    )
    fixture_path = f"{API_PREFIX}{fixtures.PATH}"
    app.add_middleware(
        BodyLimit,
        applies=lambda path: path.rstrip("/") == fixture_path,
        max_bytes=fixtures.MAX_BODY_BYTES,
        detail=fixtures.TOO_LARGE,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[server_settings.extension_origin],
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Content-Disposition", "X-Content-SHA256", "X-Row-Count"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(
        RequestGuard,
        hosts=hosts,
        origins={server_settings.extension_origin, *dashboard_origins},
        is_upload=_is_upload,
        docs_paths=DOCS_PATHS if docs else (),
        max_in_flight=server_settings.max_in_flight,
        on_change=app.state.badge_cache.clear,
        dashboard_prefix=DASHBOARD_PREFIX,
        on_token_in_url=leaked_token_revoker(runtime.engine),
    )
    return app
