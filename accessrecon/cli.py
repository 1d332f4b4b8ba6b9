"""The ``accessrecon`` command: one entry point, a subcommand per job, each with --help.

Every command exits 0 on success and otherwise prints one line saying what is
wrong on stderr (an import's report names every bad row) and exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import IntegrityError

from accessrecon.commands import ops, server_admin
from accessrecon.commands.audit import audit_app
from accessrecon.commands.campaign import campaign_app
from accessrecon.commands.connect import login_connect, session_state
from accessrecon.commands.evidence import evidence_app
from accessrecon.commands.expiring import expiring_command
from accessrecon.commands.portal import portal_app
from accessrecon.commands.removal import remove_app
from accessrecon.commands.reports import ReportRefused, findings_command, report_app
from accessrecon.commands.review import diff_command, review_app
from accessrecon.commands.statement import client_statement
from accessrecon.console import (
    console,
    crawl_progress,
    crawl_summary,
    err_console,
    findings_table,
)
from agent.crawl.scheduling import ScheduleError
from agent.domain import Portal
from agent.imports import ImportKind, ImportRejected, run_import
from agent.orgid import parse_any_org_id, parse_org_id
from agent.reports.leaver import PersonNotFound
from agent.runtime import Runtime
from agent.security.logins import (
    LoginError,
    SignInMethod,
    add_login,
    list_logins,
    remove_login,
)
from agent.security.principal import AuthError
from agent.security.secrets import SecretKeyError
from agent.services.backup import BackupError
from agent.services.connections import NEEDS_SIGN_IN
from agent.services.settle import Settled, settle
from agent.services.signins import latest_sign_ins
from agent.settings import ChromiumNotFound
from agent.storage.db import session_scope

if TYPE_CHECKING:  # the crawler loads Playwright: only the commands that crawl pay for it
    from agent.crawl.report import CrawlReport

app = typer.Typer(
    name="accessrecon",
    help="Who can get into each of your clients' ledgers: discover, reconcile, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
login_app = typer.Typer(help="The portal logins the agent signs in with.", no_args_is_help=True)
app.add_typer(login_app, name="login")
app.add_typer(report_app, name="report")

USER_ERRORS = (
    ImportRejected,
    LoginError,
    PersonNotFound,
    SecretKeyError,
    ChromiumNotFound,
    ValueError,
    FileNotFoundError,
    BackupError,
    ScheduleError,
    AuthError,
    ReportRefused,
)


def _runtime() -> Runtime:
    return Runtime()


@app.command()
def demo(
    data_dir: Annotated[Path | None, typer.Option(help="default: <data dir>/demo")] = None,
    seed: Annotated[int, typer.Option()] = 7,
    staff: Annotated[int, typer.Option(min=4)] = 12,
    orgs: Annotated[int, typer.Option(min=1, help="orgs per portal")] = 6,
    users: Annotated[int, typer.Option(min=1, help="users per org")] = 6,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="stop after the report")] = False,
    port: Annotated[int | None, typer.Option(help="API port (default from settings)")] = None,
) -> None:
    """Generate a small world, crawl its sandbox portals, reconcile, report, then serve."""
    from accessrecon.demo import run_demo

    run_demo(
        data_dir=data_dir,
        seed=seed,
        staff=staff,
        orgs=orgs,
        users=users,
        serve=not no_serve,
        port=port,
    )


@app.command("import")
def import_file(
    kind: Annotated[ImportKind, typer.Argument(help="staff, clients or access")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX")],
) -> None:
    """Import the practice's roster, client list or intended access (validated whole)."""
    runtime = _runtime()
    result = run_import(
        runtime.engine,
        kind,
        file,
        practice_domains=runtime.settings.practice_domains,
        max_rows=runtime.settings.import_max_rows,
    )
    console.print(
        f"imported {result.rows} {kind.value} rows from {file.name}: "
        f"{result.created} new, {result.updated} updated, {result.removed} removed"
    )
    for warning in result.warnings:
        err_console.print(f"warning: {warning}")


@login_app.command("add")
def login_add(
    portal: Annotated[str, typer.Option(help="xero, qbo or myob")],
    email: Annotated[str, typer.Option(help="the login's email")],
    base_url: Annotated[
        str | None, typer.Option(help="portal address (default: the real one)")
    ] = None,
    label: Annotated[str, typer.Option(help="a name to recognise the login by")] = "",
    method: Annotated[
        SignInMethod,
        typer.Option(
            help="totp: the agent signs in with the password and TOTP secret; interactive: "
            "a person signs in (e-mailed codes, push, SSO) with 'accessrecon login connect'"
        ),
    ] = SignInMethod.TOTP,
) -> None:
    """Add a login; the password and TOTP secret are asked for, never taken as arguments.

    An interactive login is asked for neither: the person who signs it in types what
    the portal asks in the browser 'accessrecon login connect' opens.
    """
    password = totp_secret = ""
    if method is SignInMethod.TOTP:
        password = typer.prompt("Password", hide_input=True)
        totp_secret = typer.prompt("TOTP secret (base32, as the portal showed it)", hide_input=True)
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        summary = add_login(
            session,
            runtime.box,
            portal=portal,
            email=email,
            password=password,
            totp_secret=totp_secret,
            base_url=base_url,
            label=label,
            method=method,
        )
    console.print(f"login {summary.id} saved: {summary.portal} {summary.email} {summary.base_url}")
    if method is SignInMethod.INTERACTIVE:
        console.print(f"sign it in now with 'accessrecon login connect {summary.id}'")


@login_app.command("list")
def login_list() -> None:
    """List the logins (never their secrets), each with its last sign-in and how it went."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        rows = list_logins(session)
        last = latest_sign_ins(session)
    if not rows:
        console.print("no logins yet: add one with 'accessrecon login add'")
        return
    console.print(
        "id\tportal\temail\tbase url\tsession\tlast sign-in", markup=False, highlight=False
    )
    for row in rows:
        state = session_state(row)
        attempt = last.get(row.id)
        outcome = attempt.summary if attempt else "never tried"
        if (
            attempt
            and not attempt.ok
            and attempt.failing_since
            and attempt.failing_since != attempt.at
        ):
            outcome += f", failing since {attempt.failing_since:%Y-%m-%d %H:%M} UTC"
        console.print(
            f"{row.id}\t{row.portal}\t{row.email}\t{row.base_url}\t{state}\t{outcome}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


login_app.command("connect")(login_connect)


@login_app.command("remove")
def login_remove(login_id: int) -> None:
    """Remove a login and its stored secrets (one with sign-ins or scans on record is kept)."""
    runtime = _runtime()
    try:
        with session_scope(runtime.engine) as session:
            remove_login(session, login_id)
    except IntegrityError:
        # its sign-ins, orgs and scans are evidence that names it, and stay
        raise LoginError(
            f"login {login_id} has sign-ins, orgs or scans on record, so it is kept; add "
            "it again with 'accessrecon login add' to replace its secrets"
        ) from None
    console.print(f"login {login_id} removed")


@app.command()
def scan(
    portal: Annotated[str | None, typer.Option(help="only this portal's logins")] = None,
    org: Annotated[str | None, typer.Option(help="only this org (portal's own id)")] = None,
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
    portal, org = _scan_target(portal, org)  # before anything starts: a typo costs nothing
    runtime = _runtime()
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
    _show_settled(crawled.settled)
    problem = scan_problem(report, org)
    if problem:
        err_console.print(f"accessrecon: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def _scan_target(portal: str | None, org: str | None) -> tuple[str | None, str | None]:
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


def _show_settled(settled: Settled) -> None:
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


@app.command("reconcile")
def reconcile_command() -> None:
    """Reconcile the latest ok scans against the roster, clients and intended access."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        settled = settle(session, runtime.settings)
    _show_settled(settled)


app.command("findings")(findings_command)
app.command("client-statement")(client_statement)
app.command("expiring")(expiring_command)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option()] = None,
    docs: Annotated[bool, typer.Option(help="serve /docs (the OpenAPI pages)")] = False,
    worker: Annotated[
        bool,
        typer.Option(
            help="run queued scans in this process (--no-worker when 'accessrecon worker' "
            "runs them elsewhere)"
        ),
    ] = True,
    allow_non_loopback: Annotated[
        bool,
        typer.Option(
            "--allow-non-loopback",
            help="listen on an address other than loopback (a container, a trusted LAN)",
        ),
    ] = False,
) -> None:
    """Serve the API, the dashboard and scheduled crawls until Ctrl-C."""
    from accessrecon.background import background_services
    from accessrecon.serving import resolve_bind, serve_forever

    runtime = _runtime()
    resolve_bind(host or runtime.settings.host, allow_non_loopback=allow_non_loopback)
    with background_services(runtime, worker=worker):
        serve_forever(
            runtime, host=host, port=port, docs=docs, allow_non_loopback=allow_non_loopback
        )


app.add_typer(review_app, name="review")
app.add_typer(remove_app, name="remove")
app.add_typer(campaign_app, name="campaign")
app.command("diff")(diff_command)
app.add_typer(ops.schedule_app, name="schedule")
app.command()(ops.worker)
app.command()(ops.backup)
app.command()(ops.restore)
app.command()(ops.retention)
app.command()(server_admin.pair)
app.add_typer(server_admin.users_app, name="users")
app.add_typer(server_admin.tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")
app.add_typer(portal_app, name="portal")
app.command("rotate-key")(server_admin.rotate_key)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Everything the product writes holds client data: owner-only unless said otherwise
    # (agent.filemodes makes the files it knows private explicitly as well).
    os.umask(0o077)
    try:
        app()
    except USER_ERRORS as exc:
        err_console.print(f"accessrecon: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
