"""``accessrecon scan`` and ``accessrecon reconcile``: read the portals now, judge what they show.

A crawl shows a progress bar, and a progress bar promises work: so everything a crawl
would refuse is refused first, in one line, before the bar is drawn (``ready_to_crawl``):
an org id in the wrong format, no portal login to crawl, a recipe override that does
not validate, a Chromium path that is not there, a secret key that does not open the
stored logins. Only then does the bar start.

``scan`` exits 0 only when every login signed in and every org it lists was read;
otherwise one line on stderr says what failed (``scan_problem``) and it exits 1.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from sqlmodel import Session

from accessrecon.console import console, crawl_progress, crawl_summary, err_console, findings_table
from agent.domain import Portal
from agent.orgid import parse_any_org_id, parse_org_id
from agent.runtime import Runtime
from agent.security.logins import list_logins
from agent.security.secrets import open_secret_box
from agent.services.connections import NEEDS_SIGN_IN
from agent.services.settle import Settled, settle
from agent.storage.db import session_scope

if TYPE_CHECKING:  # the crawler loads Playwright: only the commands that crawl pay for it
    from agent.crawl.report import CrawlReport


def scan(
    portal: Annotated[
        str | None, typer.Option(help="crawl only this portal's logins: xero, qbo or myob")
    ] = None,
    org: Annotated[
        str | None,
        typer.Option(
            help="read only this org, by the portal's own id (the portal follows from it)"
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="requests to the portals in flight at once "
            "(default ACCESSRECON_CRAWL_CONCURRENCY)",
        ),
    ] = None,
) -> None:
    """Crawl the portals now (resuming an unfinished crawl), then reconcile and alert.

    Exits non-zero, with one line on stderr, when a login could not sign in or list
    its orgs (or needs a person to sign it in: the line says what to run), when no
    org was read, when --org is not in any login's org list, or
    when any org's scan failed (those are retried by the next 'accessrecon scan').
    """
    portal, org = scan_target(portal, org)  # before anything starts: a typo costs nothing
    runtime = Runtime()
    ready_to_crawl(runtime, portal)
    with crawl_progress() as progress:
        from agent.crawl.pipeline import crawl_and_settle  # loads Playwright

        crawled = asyncio.run(
            crawl_and_settle(
                runtime,
                portal=portal,
                portal_org_id=org,
                concurrency=concurrency,
                progress=progress,
                every_org=True,
            )
        )
    report = crawled.report
    console.print(crawl_summary(report))
    show_settled(crawled.settled)
    problem = scan_problem(report, org)
    if problem:
        err_console.print(f"accessrecon: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def reconcile_command() -> None:
    """Reconcile the latest ok scans against the roster, clients and intended access."""
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        settled = settle(session, runtime.settings)
    show_settled(settled)


def scan_target(portal: str | None, org: str | None) -> tuple[str | None, str | None]:
    """The portal and org id ``scan`` was asked for, checked against the portals' formats.

    An org id alone names its portal: the three formats (xero ``!`` and five letters
    or digits, qbo 10 to 19 digits, myob a UUID) never overlap.
    """
    if portal is not None:
        try:
            portal = Portal(portal.strip().casefold()).value
        except ValueError:
            raise ValueError(
                f"--portal {portal!r} is not a portal; use xero, qbo or myob"
            ) from None
    if org is None:
        return portal, None
    try:
        if portal is not None:
            return portal, parse_org_id(portal, org)
        kind, org_id = parse_any_org_id(org)
    except ValueError as exc:
        raise ValueError(f"--org {exc}") from None
    return kind.value, org_id


def ready_to_crawl(runtime: Runtime, portal: str | None) -> None:
    """Refuse, with the crawler's own words, what would stop a crawl once started.

    Raises ``ValueError`` (no login; a bad recipe override is a ``RecipeError``),
    ``ChromiumNotFound`` or ``SecretKeyError``; reads only, so a refusal changes nothing.
    """
    with Session(runtime.engine) as session:
        logins = list_logins(session, portal)
    if not logins:
        raise ValueError(
            "no portal logins to crawl"
            + (f" for portal {portal}" if portal else "")
            + ": add one with 'accessrecon login add'"
        )
    from agent.scrapers.registry import check_recipes  # the crawl engine's own check

    settings = runtime.settings
    check_recipes(settings.recipe_dir)
    settings.chromium_executable  # noqa: B018  (a named Chromium that is not there raises)
    open_secret_box(runtime.engine, env_key=settings.secret_key, key_file=settings.key_file)


def scan_problem(report: CrawlReport, org: str | None) -> str | None:
    """What makes a crawl not a success, in one line; ``None`` when every org was read."""
    if org is not None and report.org_found is False:
        logins = ", ".join(f"{portal} {email}" for portal, email in report.not_listed)
        return f"org {org} is not in this login's org list (not_listed): {logins}"
    failed = sum(report.failed.values())
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(report.failed.items()))
    scans = f"{failed} of {report.total} org scans failed ({reasons})" if failed else ""
    # a login only a person can sign in says what to run (agent.crawl.interactive)
    needing = "; ".join(
        f"{portal} {email} needs sign-in: {detail}"
        for portal, email, reason, detail in report.login_failures
        if reason == NEEDS_SIGN_IN
    )
    failures = [f for f in report.login_failures if f[2] != NEEDS_SIGN_IN]
    if failures:
        by_cause: dict[tuple[str, str], list[str]] = {}
        for portal, email, reason, detail in failures:
            by_cause.setdefault((reason, detail), []).append(f"{portal} {email}")
        logins = "; ".join(
            f"{', '.join(who)}: {reason} ({detail})" for (reason, detail), who in by_cause.items()
        )
        count = len(failures)
        return (
            f"{count} login{'s' if count != 1 else ''} failed to sign in or list orgs: "
            f"{logins}" + (f"; {needing}" if needing else "") + (f"; {scans}" if scans else "")
        )
    if needing:
        return needing + (f"; {scans}" if scans else "")
    if report.ok + report.suspect + report.skipped_already_done == 0:
        return "no org was read: " + (scans if scans else "the logins list no orgs")
    if scans:
        return f"{scans}; 'accessrecon scan' again retries only those"
    return None


def show_settled(settled: Settled) -> None:
    """What a settle did: open findings by class, alerts sent, orgs reconciled."""
    summary, alerts = settled.findings, settled.alerts
    console.print(findings_table(summary.open_by_class))
    for channel, count in alerts.sent.items():
        console.print(f"alerted {count} new findings by {channel}")
    for problem in alerts.failed:
        err_console.print(f"alert not delivered: {problem}")
    console.print(
        f"{summary.orgs_reconciled} orgs reconciled, {summary.new} new findings, "
        f"{summary.resolved} resolved"
        + (
            f", {summary.orgs_without_ok_scan} orgs with no ok scan yet"
            if summary.orgs_without_ok_scan
            else ""
        )
    )
