"""A schedule's fire time queues one crawl, however many servers see it due.

One server leads the schedules (``agent.crawl.leader``), but leadership changes hands:
a leader can queue a fire time's crawl and die before it marks the schedule's next
run, and the server taking over then finds that fire time still due. The scan queue's
"a repeated request returns the one queued" does not cover it: the first crawl may
have finished already. So each firing is recorded, keyed by login and due time under
a unique constraint, in the transaction that queues the crawl and before it: a second
firing of the same time meets the row (on PostgreSQL it waits for the first to commit)
and queues nothing.

APScheduler's executors call a job with its stored arguments only; the executor here
also passes the time the run was due (``due_at``), which is what identifies a firing.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from concurrent.futures import Future
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from agent.clock import utcnow
from agent.crawl.scan_queue import enqueue
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin, ScheduleFiring
from agent.storage.widths import fit

log = logging.getLogger(__name__)

#: Firings older than this are deleted as new ones are made: only a recent one can
#: be due again (a takeover happens within seconds of the fire time).
KEEP_FIRINGS = timedelta(days=30)


def this_process() -> str:
    """Who fired: ``host pid N``, to tell which server led at a fire time."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def fire_once(
    engine: Engine,
    login_id: int,
    due_at: datetime,
    *,
    fired_by: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Queue the crawl of ``login_id`` its schedule's fire time ``due_at`` asks for, once.

    Returns the scan request's id, or ``None`` when the login is gone or this fire
    time has already fired (from this server or another).
    """
    fired_at = now or utcnow()
    with session_scope(engine) as session:
        if session.get(PortalLogin, login_id) is None:
            log.warning("the schedule of login %s fired, but the login is gone", login_id)
            return None
        firing = ScheduleFiring(
            login_id=login_id,
            due_at=due_at,
            fired_at=fired_at,
            fired_by=fit(fired_by or this_process(), ScheduleFiring.fired_by),
        )
        session.add(firing)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            log.info("the schedule of login %s already fired for %s", login_id, due_at)
            return None
        request = enqueue(session, requested_by="schedule", source="schedule", login_id=login_id)
        firing.request_id = request.id
        session.execute(
            delete(ScheduleFiring).where(
                col(ScheduleFiring.login_id) == login_id,
                col(ScheduleFiring.due_at) < due_at - KEEP_FIRINGS,
            )
        )
        log.info(
            "the schedule of login %s (due %s) queued request %s", login_id, due_at, request.id
        )
        return request.id


class DueTimeExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, calling each job as ``func(*args, due_at=…, **kwargs)``."""

    def __init__(self, max_workers: int = 4) -> None:
        super().__init__(max_workers, pool_kwargs={"thread_name_prefix": "schedule"})

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def done(future: Future[list[JobExecutionEvent]]) -> None:
            error = future.exception()
            if error is None:
                self._run_job_success(job.id, future.result())
            else:
                self._run_job_error(job.id, error, error.__traceback__)

        self._pool.submit(_run_due, job, run_times).add_done_callback(done)


def _run_due(job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
    """Run ``job`` once for each of its due times, as APScheduler's own ``run_job`` does."""
    events: list[JobExecutionEvent] = []
    for run_time in run_times:
        try:
            value = job.func(*job.args, due_at=run_time, **job.kwargs)
        except Exception as exc:
            log.exception('the schedule "%s" failed at its run due %s', job, run_time)
            events.append(
                JobExecutionEvent(
                    EVENT_JOB_ERROR,
                    job.id,
                    job._jobstore_alias,
                    run_time,
                    exception=exc,
                    traceback=traceback.format_exc(),
                )
            )
        else:
            events.append(
                JobExecutionEvent(
                    EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time, retval=value
                )
            )
    return events
