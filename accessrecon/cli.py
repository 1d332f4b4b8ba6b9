"""The ``accessrecon`` command: one entry point, a subcommand per job, each with --help.

Every command exits 0 on success and otherwise prints one line saying what is
wrong on stderr (an import's report names every bad row) and exits non-zero.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import IntegrityError

from accessrecon.commands import ops, server_admin
from accessrecon.commands.audit import audit_app
from accessrecon.commands.campaign import campaign_app
from accessrecon.commands.connect import login_connect, session_state
from accessrecon.commands.evidence import evidence_app
from accessrecon.commands.expiring import expiring_command
from accessrecon.commands.findings import findings_command
from accessrecon.commands.portal import portal_app
from accessrecon.commands.removal import remove_app
from accessrecon.commands.reports import ReportRefused, report_app
from accessrecon.commands.review import diff_command, review_app
from accessrecon.commands.scan import reconcile_command, scan, scan_problem
from accessrecon.commands.statement import client_statement
from accessrecon.console import console, err_console
from accessrecon.help_text import PlainFlagsGroup
from agent.crawl.scheduling import ScheduleError
from agent.imports import ImportKind, ImportRejected, run_import
from agent.reports.leaver import PersonNotFound
from agent.reports.words import moment
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
from agent.services.signins import latest_sign_ins
from agent.settings import ChromiumNotFound
from agent.storage.db import session_scope

__all__ = ["app", "main", "scan_problem"]

app = typer.Typer(
    name="accessrecon",
    help="Who can get into each of your clients' ledgers: discover, reconcile, report.",
    cls=PlainFlagsGroup,
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
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="where the demo keeps its data, emptied first (default: <data dir>/demo)"
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="the generated practice's random seed: one seed, one world")
    ] = 7,
    staff: Annotated[int, typer.Option(min=4, help="how many staff the practice has")] = 12,
    orgs: Annotated[int, typer.Option(min=1, help="how many orgs each portal has")] = 6,
    users: Annotated[int, typer.Option(min=1, help="how many users each org has")] = 6,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="stop after the reports, without serving")
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(help="the port of the API and dashboard (default ACCESSRECON_PORT, 8765)"),
    ] = None,
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
    kind: Annotated[
        ImportKind, typer.Argument(help="what the file holds: staff, clients or access")
    ],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="the CSV or XLSX file to import")
    ],
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
            outcome += f", failing since {moment(attempt.failing_since)}"
        console.print(
            f"{row.id}\t{row.portal}\t{row.email}\t{row.base_url}\t{state}\t{outcome}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


login_app.command("connect")(login_connect)


@login_app.command("remove")
def login_remove(
    login_id: Annotated[int, typer.Argument(help="the login's id ('accessrecon login list')")],
) -> None:
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


app.command()(scan)
app.command("reconcile")(reconcile_command)
app.command("findings")(findings_command)
app.command("client-statement")(client_statement)
app.command("expiring")(expiring_command)


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="the address to listen on (default ACCESSRECON_HOST, 127.0.0.1)"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="the port to listen on (default ACCESSRECON_PORT, 8765)")
    ] = None,
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
