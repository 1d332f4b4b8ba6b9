"""``accessrecon report …``: leaver, matrix, workload, exceptions, evidence.

Each command writes one file, ``.xlsx`` by default or ``.csv`` (``--format``, or
inferred from ``-o``'s suffix), to ``-o`` or to a dated name in the current
directory (``access-matrix-2026-11-24.xlsx``), then prints the path and the row
count. ``--manager`` (repeatable) cuts a report to the clients of those client
managers, so a manager can be sent their own clients and nobody else's; the cut is
printed on every sheet. Like any export of client data, each report is recorded
in the audit log with its row count and the SHA-256 of the file written, and the
file is readable by its owner only (mode 0600).

Every command exits 0 on success; a refused request (an unknown person or manager,
a bad date) prints one line on stderr and exits 1.

``accessrecon findings`` (open findings on screen, or as CSV or JSON) is
``accessrecon.commands.findings``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, select

from accessrecon.console import cli_actor, console, err_console
from agent.clock import utcnow
from agent.filemodes import private_output
from agent.reports.common import ReportFormat, ReportResult, default_filename
from agent.reports.evidence import write_evidence_report
from agent.reports.exceptions import write_exceptions_report
from agent.reports.leaver import PersonNotFound, write_leaver_report
from agent.reports.matrix import write_matrix_report
from agent.reports.workload import write_workload_report
from agent.runtime import Runtime
from agent.security.audit import file_sha256, record
from agent.storage.db import session_scope
from agent.storage.models import Client

report_app = typer.Typer(
    help="Reports as Excel workbooks or CSV: leaver, matrix, workload, exceptions, evidence.",
    no_args_is_help=True,
)


class ReportRefused(ValueError):
    """A report that cannot be cut as asked; the message says why."""


FormatOption = Annotated[
    ReportFormat | None,
    typer.Option("--format", help="xlsx or csv (default: from -o's suffix, else xlsx)"),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        dir_okay=False,
        help="the file to write (default: a dated name in the current directory)",
    ),
]
ManagerOption = Annotated[
    list[str] | None,
    typer.Option("--manager", help="only the clients of this client manager (repeatable)"),
]


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn a refused report into one line on stderr and exit code 1."""
    try:
        yield
    except (ReportRefused, PersonNotFound) as exc:
        err_console.print(f"accessrecon: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _format(fmt: ReportFormat | None, output: Path | None) -> ReportFormat:
    if fmt is not None:
        return fmt
    if output is not None and output.suffix.lower() == ".csv":
        return ReportFormat.CSV
    return ReportFormat.XLSX


def _path(output: Path | None, stem: str, as_of: datetime, fmt: ReportFormat) -> Path:
    return output if output is not None else Path.cwd() / default_filename(stem, as_of, fmt)


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def manager_scope(session: Session, managers: list[str] | None) -> tuple[set[int] | None, str]:
    """The client ids of the named client managers, and the scope's label."""
    if not managers:
        return None, ""
    wanted = {_folded(m): m.strip() for m in managers}
    ids: set[int] = set()
    spelled: dict[str, str] = {}  # as the client list spells them
    for client_id, manager in session.exec(select(Client.id, Client.client_manager)):
        key = _folded(manager)
        if client_id is not None and key in wanted:
            ids.add(client_id)
            spelled.setdefault(key, " ".join(manager.split()))
    missing = [typed for key, typed in wanted.items() if key not in spelled]
    if missing:
        raise ReportRefused(f"no client has client manager {', '.join(map(repr, missing))}")
    return ids, "clients managed by " + ", ".join(spelled[key] for key in sorted(spelled))


def _run(
    kind: str,
    stem: str,
    unit: str,
    fmt: ReportFormat | None,
    output: Path | None,
    managers: list[str] | None,
    write: Callable[
        [Session, Path, ReportFormat, set[int] | None, str | None, datetime], ReportResult
    ],
) -> None:
    """Resolve scope and path, write the report, record it, print where it went."""
    chosen = _format(fmt, output)
    as_of = utcnow()
    runtime = Runtime()
    with _refusals(), session_scope(runtime.engine) as session:
        scope, label = manager_scope(session, managers)
        path = _path(output, stem, as_of, chosen)
        with private_output(path):  # client data: the owner's alone (agent.filemodes)
            result = write(session, path, chosen, scope, label or None, as_of)
        record(
            session,
            actor=cli_actor(),
            action=f"export.report_{kind}",
            detail={
                "format": chosen.value,
                "rows": result.rows,
                "sha256": file_sha256(result.path),
                "filename": result.path.name,
                "scope": "all" if scope is None else label,
                **({"client_ids": sorted(scope)} if scope is not None else {}),
            },
        )
    console.print(
        f"{result.path}: {result.rows} {unit}", markup=False, highlight=False, soft_wrap=True
    )


@report_app.command("leaver")
def report_leaver(
    who: Annotated[str, typer.Argument(help="the person's name or any of their emails")],
    fmt: FormatOption = None,
    output: OutputOption = None,
    manager: ManagerOption = None,
) -> None:
    """Every org a person can still reach, one sheet per client manager."""

    def write(
        session: Session,
        path: Path,
        chosen: ReportFormat,
        scope: set[int] | None,
        label: str | None,
        as_of: datetime,
    ) -> ReportResult:
        _, rows = write_leaver_report(
            session, who, path, fmt=chosen, scope=scope, scope_label=label, as_of=as_of
        )
        return ReportResult(path, rows, chosen)

    name = who.split("@")[0] if "@" in who else who
    _run("leaver", f"leaver-{name}", "orgs", fmt, output, manager, write)


@report_app.command("matrix")
def report_matrix(
    fmt: FormatOption = None, output: OutputOption = None, manager: ManagerOption = None
) -> None:
    """Staff × clients: each cell the access a person has, coloured by finding class."""
    _run(
        "matrix",
        "access-matrix",
        "staff rows",
        fmt,
        output,
        manager,
        lambda s, p, f, scope, label, as_of: write_matrix_report(
            s, p, fmt=f, scope=scope, scope_label=label, as_of=as_of
        ),
    )


@report_app.command("workload")
def report_workload(
    fmt: FormatOption = None, output: OutputOption = None, manager: ManagerOption = None
) -> None:
    """Per client manager and per job manager: clients, budget, clients with findings."""
    _run(
        "workload",
        "workload",
        "manager rows",
        fmt,
        output,
        manager,
        lambda s, p, f, scope, label, as_of: write_workload_report(
            s, p, fmt=f, scope=scope, scope_label=label, as_of=as_of
        ),
    )


@report_app.command("exceptions")
def report_exceptions(
    fmt: FormatOption = None, output: OutputOption = None, manager: ManagerOption = None
) -> None:
    """Every open finding that needs action, worst first."""
    _run(
        "exceptions",
        "exceptions",
        "findings",
        fmt,
        output,
        manager,
        lambda s, p, f, scope, label, as_of: write_exceptions_report(
            s, p, fmt=f, scope=scope, scope_label=label, as_of=as_of
        ),
    )


@report_app.command("evidence")
def report_evidence(
    fmt: FormatOption = None,
    output: OutputOption = None,
    manager: ManagerOption = None,
    since: Annotated[
        str | None, typer.Option(help="only scans from this day on, YYYY-MM-DD")
    ] = None,
) -> None:
    """Every scan's outcome: ok, failed (and why) or suspect, users captured vs shown."""
    start: datetime | None = None
    if since is not None:
        try:
            start = datetime.combine(date.fromisoformat(since), time(), tzinfo=UTC)
        except ValueError:
            err_console.print(
                f"accessrecon: --since {since!r} is not a date (YYYY-MM-DD)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
    _run(
        "evidence",
        "evidence",
        "scans",
        fmt,
        output,
        manager,
        lambda s, p, f, scope, label, as_of: write_evidence_report(
            s, p, fmt=f, scope=scope, scope_label=label, as_of=as_of, since=start
        ),
    )
