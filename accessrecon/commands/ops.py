"""Operations: the worker, crawl schedules, backups and retention.

A backup is an export of every client's data: its file is written ``0600`` and the
audit log records it (``export.backup``, with row count and SHA-256) like a report.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from accessrecon.console import cli_actor, console, err_console
from agent.clock import utcnow
from agent.crawl.scheduling import list_schedules, remove_schedule, set_schedule
from agent.metrics.port import MetricsPort
from agent.reports.words import day, moment
from agent.runtime import Runtime
from agent.services.backup import KEY_REMINDER, record_backup, restore_backup, write_backup
from agent.services.retention import purge_observations
from agent.storage.db import session_scope

schedule_app = typer.Typer(help="Crawl schedules (cron) per portal login.", no_args_is_help=True)


def worker(
    poll: Annotated[float, typer.Option(help="seconds between looks at the queue")] = 2.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="serve this worker's metrics for Prometheus on this port (0: none; "
            "default ACCESSRECON_WORKER_METRICS_PORT)",
        ),
    ] = None,
) -> None:
    """Run queued scans (re-scans and scheduled crawls) until stopped, without the server."""
    runtime = Runtime()
    settings = runtime.settings
    port = settings.worker_metrics_port if metrics_port is None else metrics_port
    # a port that cannot be served is refused before the database is touched
    exposed = (
        MetricsPort(settings.worker_metrics_host, port, settings.metrics_allow) if port else None
    )
    runtime.engine  # noqa: B018  (migrate and open the database before taking work)
    if exposed is not None:
        console.print(f"worker: metrics at {exposed.url}")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print("worker: waiting for scan requests (Ctrl-C to stop)")
        # each job it starts, resumes or puts back, on stderr: which machine crawls what
        logging.getLogger("agent.crawl.queue").setLevel(logging.INFO)
        from agent.crawl.worker import Worker  # loads Playwright: only this command needs it

        await Worker(runtime, poll_s=poll).run_forever(stop)

    try:
        asyncio.run(run())
    finally:
        if exposed is not None:
            exposed.close()


@schedule_app.command("set")
def schedule_set(
    login_id: Annotated[int, typer.Argument(help="the login's id ('accessrecon login list')")],
    cron: Annotated[str, typer.Argument(help="minute hour day month weekday, e.g. '0 6 * * 1-5'")],
    timezone: Annotated[
        str | None,
        typer.Option(
            help="the time zone of the cron times, such as Pacific/Auckland "
            "(the practice's, ACCESSRECON_TIMEZONE, unless given)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Crawl a login on a cron schedule (replaces its schedule)."""
    runtime = Runtime()
    zone = timezone or runtime.settings.timezone
    schedule = set_schedule(runtime, login_id, cron, timezone=zone)
    console.print(f"login {login_id}: '{cron}' ({zone}), next run {moment(schedule.next_run_at)}")


@schedule_app.command("list")
def schedule_list() -> None:
    """Every login's schedule and its next run."""
    schedules = list_schedules(Runtime())
    if not schedules:
        console.print("no schedules: add one with 'accessrecon schedule set LOGIN_ID CRON'")
    for s in schedules:
        console.print(f"login {s.login_id}\t{s.cron}\t{s.timezone}\tnext {moment(s.next_run_at)}")


@schedule_app.command("remove")
def schedule_remove(
    login_id: Annotated[int, typer.Argument(help="the login's id ('accessrecon schedule list')")],
) -> None:
    """Stop crawling a login on a schedule."""
    remove_schedule(Runtime(), login_id)
    console.print(f"login {login_id}: schedule removed")


def backup(
    output: Annotated[Path, typer.Option("-o", "--output", help="the .zip to write")],
) -> None:
    """Back up the whole database into a file that restores into SQLite or PostgreSQL."""
    runtime = Runtime()
    summary = write_backup(runtime.engine, output)
    with session_scope(runtime.engine) as session:
        record_backup(session, summary, actor=cli_actor())
    console.print(
        f"backed up {sum(summary.rows.values())} rows in {len(summary.rows)} tables "
        f"to {summary.path}"
    )
    err_console.print(f"remember: {KEY_REMINDER}")


def restore(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="the backup .zip to restore")
    ],
) -> None:
    """Restore a backup into an empty database, then migrate it to this version's schema."""
    summary = restore_backup(Runtime().engine, file)
    console.print(f"restored {sum(summary.rows.values())} rows from {file}")
    err_console.print(f"remember: {KEY_REMINDER}")


def retention(
    older_than_days: Annotated[
        int, typer.Option(min=30, help="purge observations older than this many days")
    ],
    actor: Annotated[str, typer.Option(help="who runs the purge, for the audit log")],
    yes: Annotated[bool, typer.Option("--yes", help="purge; without it, only count")] = False,
) -> None:
    """Purge old observations (keeping scans, findings' evidence and every org's latest)."""
    runtime = Runtime()
    cutoff = utcnow() - timedelta(days=older_than_days)
    with session_scope(runtime.engine) as session:
        purge = purge_observations(session, before=cutoff, actor=actor, dry_run=not yes)
    verb = "purged" if yes else "would purge (add --yes to do it)"
    console.print(
        f"{verb} {purge.observations} observations of {purge.scans} scans "
        f"finished before {day(cutoff)}"
    )
