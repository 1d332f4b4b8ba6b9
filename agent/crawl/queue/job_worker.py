"""procrastinate workers: what ``accessrecon worker`` (and ``serve``'s worker) run on PostgreSQL.

One job at a time per process: a crawl has its own concurrency already, and a process
holds one Chromium; more processes, on more machines, crawl more logins at once.
Besides its jobs, each worker keeps the queue going (``_upkeep``):

* **Stalled jobs.** A worker beats every quarter of ``ACCESSRECON_WORKER_STALL_S``. A
  job whose worker has not beaten for that long (killed, its machine lost) is put back
  in the queue, by one worker at a time so it is put back once, and the next free
  worker resumes its crawl where it stopped (``resume``); the login it crawls is held
  until the first worker's connection is gone (``advisory``). A worker stopped by a
  signal gives its job a few seconds, then puts it back the same way.
* **Removal runs** asked for in the dashboard or the API become jobs too, one per plan
  at a time (a plan's run claims each item once, so a second run would find nothing).

A request already finished when its job runs (its first worker finished it and died
before telling procrastinate) is left as it is.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate.app import WorkerOptions
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, JobAborted
from procrastinate.jobs import Job
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.clock import utcnow
from agent.crawl.queue.advisory import STALL_CHECK, holding_logins, turn
from agent.crawl.queue.jobs import (
    REMOVAL_TASK,
    REMOVALS,
    SCAN_TASK,
    postgres_conninfo,
    removal_lock,
)
from agent.crawl.queue.schema import ensure_job_schema
from agent.crawl.scan_queue import ACTIVE, RUNNING
from agent.services.removals.runs import plans_to_run
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin, ScanRequest

if TYPE_CHECKING:
    from agent.crawl.worker import Worker

log = logging.getLogger(__name__)

#: how long a stopped worker lets its running job go on before putting it back
SHUTDOWN_GRACE_S = 5.0


@dataclass(slots=True)
class _Tally:
    """What one worker ran, for ``run_pending``'s answer."""

    ran: int = 0


class ResumeAfterShutdown(BaseRetryStrategy):
    """A job cut short by its worker stopping goes back in the queue at once; one that
    failed on its own does not (the request records the failure)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError | JobAborted):
            return RetryDecision()
        return None


class _JobApp(App):
    """An app with this product's tasks only (procrastinate's built-in ones unused)."""

    def _register_builtin_tasks(self) -> None:
        pass


def job_app(engine: Engine) -> App:
    """An app whose worker runs scan requests and removal runs on ``engine``'s database."""
    app = _JobApp(
        connector=PsycopgConnector(conninfo=postgres_conninfo(engine), min_size=1, max_size=4)
    )
    app.task(name=SCAN_TASK, pass_context=True, retry=ResumeAfterShutdown())(_scan_request)
    app.task(name=REMOVAL_TASK, pass_context=True)(_removal_run)
    return app


async def _scan_request(
    context: JobContext, request_id: int, through_login: int | None = None
) -> None:
    worker: Worker = context.additional_context["worker"]
    await run_scan(worker, request_id, through_login=through_login)
    context.additional_context["tally"].ran += 1


async def _removal_run(context: JobContext, plan_id: int) -> None:
    worker: Worker = context.additional_context["worker"]
    with Session(worker.runtime.engine) as session:
        asked = plan_id in plans_to_run(session)
    if asked:  # else an earlier job ran it since this one was queued
        await worker.run_removals(plan_id)
        context.additional_context["tally"].ran += 1


def _logins_crawled(session: Session, request: ScanRequest, through: int | None) -> list[int]:
    if request.login_id is not None:
        return [request.login_id]
    if through is not None:
        return [through]
    query = select(PortalLogin.id)
    if request.portal:
        query = query.where(PortalLogin.portal == request.portal)
    return [i for i in session.exec(query) if i is not None]


async def run_scan(worker: Worker, request_id: int, *, through_login: int | None = None) -> None:
    """Run one scan request's job: hold its logins, mark it running, crawl, settle."""
    engine = worker.runtime.engine
    with Session(engine) as session:
        request = session.get(ScanRequest, request_id)
        if request is None or request.status not in ACTIVE:
            log.info("scan request %s is no longer waiting: nothing to run", request_id)
            return
        logins = _logins_crawled(session, request, through_login)
    async with holding_logins(engine, logins):
        with session_scope(engine) as session:
            row = session.get(ScanRequest, request_id)
            if row is None or row.status not in ACTIVE:
                return  # finished by a worker that was stalled, not dead
            resumed = row.status == RUNNING
            row.status = RUNNING
            row.started_at = row.started_at or utcnow()
            session.add(row)
        log.info(
            "scan request %s %s (worker %s, logins %s)",
            request_id,
            "resumed" if resumed else "started",
            worker_name(),
            ", ".join(map(str, logins)) or "none",
        )
        await worker.run_request(row, through_login=through_login)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _options(worker: Worker, tally: _Tally, *, wait: bool) -> WorkerOptions:
    stall_s = worker.runtime.settings.worker_stall_s
    return WorkerOptions(
        name=worker_name(),
        concurrency=1,
        wait=wait,
        listen_notify=wait,
        install_signal_handlers=False,
        fetch_job_polling_interval=worker.poll_s,
        delete_jobs="successful",
        update_heartbeat_interval=stall_s / 4,
        stalled_worker_timeout=stall_s,
        shutdown_graceful_timeout=SHUTDOWN_GRACE_S,
        additional_context={"worker": worker, "tally": tally},
    )


async def retry_stalled(app: App, engine: Engine, stall_s: float) -> list[int]:
    """Put back in the queue each job whose worker has not beaten for ``stall_s``."""
    with turn(engine, STALL_CHECK) as mine:
        if not mine:
            return []
        retried = []
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stall_s):
            assert job.id is not None
            try:
                await app.job_manager.retry_job(job)
            except ConnectorException:  # finished meanwhile by a worker that was only slow
                continue
            log.warning("job %s (%s) lost its worker: queued again", job.id, job.call_string)
            retried.append(job.id)
        return retried


async def defer_removal_runs(app: App, engine: Engine) -> None:
    """A job for each plan whose run was asked for (one waiting per plan)."""
    with Session(engine) as session:
        plans = plans_to_run(session)
    for plan_id in plans:
        with suppress(AlreadyEnqueued):
            await app.configure_task(
                REMOVAL_TASK,
                queue=REMOVALS,
                lock=removal_lock(plan_id),
                queueing_lock=removal_lock(plan_id),
            ).defer_async(plan_id=plan_id)


async def run_pending(worker: Worker) -> int:
    """Run every job that can run now, then stop; returns how many ran."""
    engine = worker.runtime.engine
    ensure_job_schema(engine)
    tally = _Tally()
    app = job_app(engine)
    async with app.open_async():
        await retry_stalled(app, engine, worker.runtime.settings.worker_stall_s)
        await defer_removal_runs(app, engine)
        await app.run_worker_async(**_options(worker, tally, wait=False))
    return tally.ran


async def run_forever(worker: Worker, stop: asyncio.Event) -> None:
    """Run jobs as they come until ``stop``; a worker that fails starts again."""
    ensure_job_schema(worker.runtime.engine)
    while not stop.is_set():
        try:
            await _serve(worker, stop)
        except Exception:
            log.exception("the job worker stopped; it starts again")
        if not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=worker.poll_s)


async def _serve(worker: Worker, stop: asyncio.Event) -> None:
    app = job_app(worker.runtime.engine)
    async with app.open_async():
        running = asyncio.create_task(app.run_worker_async(**_options(worker, _Tally(), wait=True)))
        upkeep = asyncio.create_task(_upkeep(app, worker))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (upkeep, stopping):
                task.cancel()
            if not running.done():
                running.cancel()  # procrastinate stops gracefully, then puts its job back
            with suppress(asyncio.CancelledError):
                await running
            with suppress(asyncio.CancelledError):
                await upkeep


async def _upkeep(app: App, worker: Worker) -> None:
    engine = worker.runtime.engine
    stall_s = worker.runtime.settings.worker_stall_s
    every = min(worker.poll_s, stall_s / 4)
    while True:
        try:
            await retry_stalled(app, engine, stall_s)
            await defer_removal_runs(app, engine)
        except Exception:
            log.exception("the job queue's upkeep failed; it will try again")
        await asyncio.sleep(every)


__all__ = ["job_app", "retry_stalled", "run_forever", "run_pending", "run_scan"]
