"""Scan requests as procrastinate jobs: the queue of a deployment on PostgreSQL.

A request is two rows written in the caller's transaction: the ``ScanRequest`` the
product shows, and a procrastinate job naming it. Writing both in one transaction
(procrastinate defers through the caller's own connection) means a request the API
answered is never without its job, and a rolled back one leaves neither.

* **The lock is what the job crawls**: ``login-{id}``. procrastinate never runs two
  jobs with one lock at once, on any machine, and runs them in the order they were
  queued. A request for one org is read through the login that listed it last (so it
  waits for that login's crawl, and no other login signs in for it); a request no
  single login answers (a whole portal, or an org no login has listed) is locked by
  its portal, and the worker holds each login it crawls (``advisory``) besides.
* **The queueing lock is the request itself**, so two callers asking at the same
  moment get one job: the second one's insert fails on procrastinate's unique index
  and it is answered with the first one's request. A request already running is
  found on ``ScanRequest`` first, as the in-process queue finds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.crawl.queue.schema import ensure_job_schema
from agent.crawl.scan_queue import active_request
from agent.storage.models import Org, ScanRequest

if TYPE_CHECKING:
    from agent.crawl.worker import Worker

#: procrastinate's queues: scans and removal runs, so a worker could be given one
SCANS = "scans"
REMOVALS = "removals"
SCAN_TASK = "accessrecon:scan_request"
REMOVAL_TASK = "accessrecon:removal_run"

#: defers jobs through the caller's own connection only: never opened, so it needs
#: no address of its own
_deferrer = App(connector=PsycopgConnector())


@dataclass(frozen=True, slots=True)
class CrawlTarget:
    """What a request's job locks, and the login it is read through when it names
    only an org (``None``: crawl what the request names)."""

    lock: str
    through_login: int | None = None


def login_lock(login_id: int) -> str:
    return f"login-{login_id}"


def crawl_target(
    session: Session, login_id: int | None, portal: str | None, portal_org_id: str | None
) -> CrawlTarget:
    if login_id is not None:
        return CrawlTarget(login_lock(login_id))
    if portal is not None and portal_org_id is not None:
        holder = session.exec(
            select(Org.login_id).where(Org.portal == portal, Org.portal_org_id == portal_org_id)
        ).first()
        if holder is not None:
            return CrawlTarget(login_lock(holder), through_login=holder)
    return CrawlTarget(f"portal-{portal}" if portal else "every-portal")


def request_identity(login_id: int | None, portal: str | None, portal_org_id: str | None) -> str:
    """The queueing lock: one waiting job per distinct request."""
    return f"scan:{login_id or ''}:{portal or ''}:{portal_org_id or ''}"


def removal_lock(plan_id: int) -> str:
    return f"removal-plan-{plan_id}"


def postgres_conninfo(engine: Engine) -> str:
    """The libpq address of the engine's database (its options, such as a schema's
    search path, kept)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _driver_connection(session: Session) -> Any:
    """The psycopg connection under the session, inside its transaction."""
    return session.connection().connection.driver_connection


class JobQueue:
    """The queue of a deployment on PostgreSQL: procrastinate jobs."""

    def enqueue(
        self,
        session: Session,
        *,
        requested_by: str,
        source: str,
        login_id: int | None = None,
        portal: str | None = None,
        portal_org_id: str | None = None,
    ) -> ScanRequest:
        existing = active_request(session, login_id, portal, portal_org_id)
        if existing is not None:
            return existing
        bind = session.get_bind()
        ensure_job_schema(bind if isinstance(bind, Engine) else bind.engine)
        target = crawl_target(session, login_id, portal, portal_org_id)
        try:
            with session.begin_nested():
                request = ScanRequest(
                    requested_by=requested_by,
                    source=source,
                    login_id=login_id,
                    portal=portal,
                    portal_org_id=portal_org_id,
                )
                session.add(request)
                session.flush()
                request.job_id = _deferrer.configure_task(
                    SCAN_TASK,
                    queue=SCANS,
                    lock=target.lock,
                    queueing_lock=request_identity(login_id, portal, portal_org_id),
                    connection=_driver_connection(session),
                ).defer(request_id=request.id, through_login=target.through_login)
                session.add(request)
        except AlreadyEnqueued:
            # another caller queued the same request a moment ago; its row is committed
            existing = active_request(session, login_id, portal, portal_org_id)
            if existing is None:
                raise RuntimeError(
                    "a job for this scan is waiting, but its scan request is not: "
                    "look at procrastinate_jobs for "
                    f"{request_identity(login_id, portal, portal_org_id)}"
                ) from None
            return existing
        return request

    async def run_pending(self, worker: Worker) -> int:
        from agent.crawl.queue.job_worker import run_pending

        return await run_pending(worker)

    async def run_forever(self, worker: Worker, stop: asyncio.Event) -> None:
        from agent.crawl.queue.job_worker import run_forever

        await run_forever(worker, stop)
