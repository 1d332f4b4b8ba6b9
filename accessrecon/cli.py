"""The ``accessrecon`` command: one entry point, a subcommand per job, each with --help.

Every command exits 0 on success and otherwise prints one line saying what is
wrong on stderr (an import's report names every bad row) and exits non-zero.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from accessrecon.commands import ops, server_admin
from accessrecon.commands.reports import ReportRefused, report_app
from accessrecon.commands.review import diff_command, review_app
from accessrecon.console import console, crawl_summary, err_console, findings_table, run_crawl
from agent.alerts import send_alerts
from agent.auth import AuthError
from agent.backup import BackupError
from agent.findings import open_findings, reconcile
from agent.imports import ImportKind, ImportRejected, run_import
from agent.logins import LoginError, add_login, list_logins, remove_login
from agent.reports.csvsafe import safe_csv_value
from agent.reports.leaver import PersonNotFound
from agent.runtime import Runtime
from agent.scheduling import ScheduleError
from agent.secrets import SecretKeyError
from agent.settings import ChromiumNotFound
from agent.storage.db import session_scope

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
    ImportRejected, LoginError, PersonNotFound, SecretKeyError, ChromiumNotFound, ValueError,
    FileNotFoundError, BackupError, ScheduleError, AuthError, ReportRefused,
)


def _runtime() -> Runtime:
    return Runtime()


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


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

    run_demo(data_dir=data_dir, seed=seed, staff=staff, orgs=orgs, users=users,
             serve=not no_serve, port=port)


@app.command("import")
def import_file(
    kind: Annotated[ImportKind, typer.Argument(help="staff, clients or access")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX")],
) -> None:
    """Import the practice's roster, client list or intended access (validated whole)."""
    runtime = _runtime()
    result = run_import(runtime.engine, kind, file,
                        practice_domains=runtime.settings.practice_domains)
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
    base_url: Annotated[str | None, typer.Option(help="portal address (default: the real one)")]
    = None,
    label: Annotated[str, typer.Option(help="a name to recognise the login by")] = "",
) -> None:
    """Add a login; the password and TOTP secret are asked for, never taken as arguments."""
    password = typer.prompt("Password", hide_input=True)
    totp_secret = typer.prompt("TOTP secret (base32, as the portal showed it)", hide_input=True)
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        summary = add_login(session, runtime.box, portal=portal, email=email, password=password,
                            totp_secret=totp_secret, base_url=base_url, label=label)
    console.print(f"login {summary.id} saved: {summary.portal} {summary.email} {summary.base_url}")


@login_app.command("list")
def login_list() -> None:
    """List the logins (never their secrets)."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        rows = list_logins(session)
    if not rows:
        console.print("no logins yet: add one with 'accessrecon login add'")
    for row in rows:
        state = "signed in before" if row.has_session else "never signed in"
        console.print(f"{row.id}\t{row.portal}\t{row.email}\t{row.base_url}\t{state}")


@login_app.command("remove")
def login_remove(login_id: int) -> None:
    """Remove a login and its stored secrets."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        remove_login(session, login_id)
    console.print(f"login {login_id} removed")


@app.command()
def scan(
    portal: Annotated[str | None, typer.Option(help="only this portal's logins")] = None,
    org: Annotated[str | None, typer.Option(help="only this org (portal's own id)")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, max=64)] = None,
) -> None:
    """Crawl the portals now (resuming an unfinished crawl), then reconcile."""
    runtime = _runtime()
    report = run_crawl(runtime, portal=portal, org=org, concurrency=concurrency)
    console.print(crawl_summary(report))
    _reconcile_and_show(runtime)


def _reconcile_and_show(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        summary = reconcile(session, configured_domains=runtime.settings.practice_domains)
        alerts = send_alerts(session, runtime.settings)
    console.print(findings_table(summary.open_by_class))
    for channel, count in alerts.sent.items():
        console.print(f"alerted {count} new findings by {channel}")
    for problem in alerts.failed:
        err_console.print(f"alert not delivered: {problem}")
    console.print(
        f"{summary.orgs_reconciled} orgs reconciled, {summary.new} new findings, "
        f"{summary.resolved} resolved"
        + (f", {summary.orgs_without_ok_scan} orgs with no ok scan yet"
           if summary.orgs_without_ok_scan else "")
    )


@app.command("reconcile")
def reconcile_command() -> None:
    """Reconcile the latest ok scans against the roster, clients and intended access."""
    _reconcile_and_show(_runtime())


@app.command()
def findings(
    finding_class: Annotated[list[str] | None, typer.Option("--class", help="repeatable")] = None,
    portal: Annotated[str | None, typer.Option()] = None,
    problems: Annotated[bool, typer.Option(help="only classes that need action")] = False,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """List open findings, or export them as CSV or JSON."""
    runtime = _runtime()
    with session_scope(runtime.engine) as session:
        rows = open_findings(session, classes=finding_class or (), portal=portal,
                             problems_only=problems)
    if output_format is OutputFormat.TABLE:
        for r in rows:
            console.print(f"{r.severity:8} {r.finding_class:22} {r.portal:5} {r.portal_org_id:20} "
                          f"{r.email}  {r.detail}", markup=False, highlight=False)
        console.print(f"{len(rows)} findings")
        return
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        dicts = [{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                  for k, v in asdict(r).items()} for r in rows]
        if output_format is OutputFormat.JSON:
            json.dump(dicts, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        else:
            fields = list(dicts[0]) if dicts else ["portal", "portal_org_id", "email"]
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows({k: safe_csv_value(v) for k, v in d.items()} for d in dicts)
    finally:
        if output:
            handle.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option()] = None,
    docs: Annotated[bool, typer.Option(help="serve /docs (the OpenAPI pages)")] = False,
    worker: Annotated[bool, typer.Option(
        help="run queued scans in this process (--no-worker when 'accessrecon worker' "
             "runs them elsewhere)")] = True,
    allow_non_loopback: Annotated[bool, typer.Option(
        "--allow-non-loopback",
        help="listen on an address other than loopback (a container, a trusted LAN)")] = False,
) -> None:
    """Serve the API, the dashboard and scheduled crawls until Ctrl-C."""
    from accessrecon.background import background_services
    from accessrecon.serving import resolve_bind, serve_forever

    runtime = _runtime()
    resolve_bind(host or runtime.settings.host, allow_non_loopback=allow_non_loopback)
    with background_services(runtime, worker=worker):
        serve_forever(runtime, host=host, port=port, docs=docs,
                      allow_non_loopback=allow_non_loopback)


app.add_typer(review_app, name="review")
app.command("diff")(diff_command)
app.add_typer(ops.schedule_app, name="schedule")
app.command()(ops.worker)
app.command()(ops.backup)
app.command()(ops.restore)
app.command()(ops.retention)
app.command()(server_admin.pair)
app.add_typer(server_admin.users_app, name="users")
app.add_typer(server_admin.tokens_app, name="tokens")
app.command("rotate-key")(server_admin.rotate_key)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except USER_ERRORS as exc:
        err_console.print(f"accessrecon: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
