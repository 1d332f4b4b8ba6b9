"""Rich output shared by the commands: tables, progress, one-line errors."""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from agent.domain import FindingClass
from agent.reports.words import label

if TYPE_CHECKING:  # the crawler loads Playwright: only the commands that crawl pay for it
    from agent.crawl.report import CrawlReport, ProgressCallback

console = Console()
err_console = Console(stderr=True)


def say(line: str) -> None:
    """One line as it is (no markup, no wrapping), so output can be read by other tools."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def refuse(message: str) -> NoReturn:
    """The one-line refusal every command ends with: on stderr, exit code 1."""
    err_console.print(f"accessrecon: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def cli_actor() -> str:
    """How the audit log names whoever runs a command: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def crawl_progress() -> Iterator[ProgressCallback]:
    """A progress bar fed by the crawler: done, failed and remaining orgs, and orgs/s."""
    failed = 0
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]scanning orgs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TextColumn("{task.fields[rate]} orgs/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("scan", total=None, failed=0, rate="-")

        def update(event: str, done: int, total: int) -> None:
            nonlocal failed
            if event == "failed":
                failed += 1
            elapsed = progress.tasks[task].elapsed or 0
            rate = f"{done / elapsed:.1f}" if elapsed > 0 and done else "-"
            progress.update(task, completed=done, total=total or None, failed=failed, rate=rate)

        yield update


def crawl_summary(report: CrawlReport) -> Table:
    table = Table(title=f"Crawl {report.crawl_id}" + (" (resumed)" if report.resumed else ""))
    table.add_column("outcome")
    table.add_column("orgs", justify="right")
    table.add_row("ok", str(report.ok))
    if report.suspect:
        table.add_row("suspect: dropped to no users, held", str(report.suspect))
    for reason, count in sorted(report.failed.items()):
        table.add_row(f"failed: {reason}", str(count))
    for reason, count in sorted(report.retries.items()):
        table.add_row(f"retried after {reason}", str(count))
    if report.sign_ins:
        table.add_row("signed in again after the session expired", str(report.sign_ins))
    if report.skipped_already_done:
        table.add_row("already scanned in this crawl", str(report.skipped_already_done))
    for portal, email, reason, detail in report.login_failures:
        table.add_row(f"login {portal} {email}: {reason}", detail)
    return table


def findings_table(counts: Mapping[str, int], title: str = "Open findings") -> Table:
    """Open findings by class, worst first, in the dashboard's words ("Leaver access")."""
    table = Table(title=title)
    table.add_column("class")
    table.add_column("severity")
    table.add_column("count", justify="right")
    for cls in FindingClass:
        if counts.get(cls):
            table.add_row(label(cls), label(cls.severity), str(counts[cls]))
    return table
