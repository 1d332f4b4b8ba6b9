"""One queue for every re-scan: CLI, API, extension and the scheduler all enqueue here.

A request names a portal login, or one org. It is kept as a ``ScanRequest`` row
whatever runs it: the row is what the API, the dashboard and the extension show
(status, progress, the crawl it opened). Asking again for something already queued
or running returns the existing request instead of queueing a duplicate.

Which queue carries the request follows the database (``agent.crawl.queue``): on
PostgreSQL a procrastinate job, run by any number of workers on any number of
machines; on SQLite the in-process queue here. In-process, a worker claims requests
one at a time per login (``claim_next``: never two crawls of one login at once),
looks at the queue every few seconds, and one in the same process as the enqueuer
(``accessrecon serve``) is also woken the moment a new request is committed, so a
re-scan clicked in the extension starts at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import event, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.services.removals.runs import plans_to_run
from agent.storage.db import session_scope
from agent.storage.models import ScanRequest
from agent.storage.widths import fit

if TYPE_CHECKING:
    from agent.crawl.worker import Worker

log = logging.getLogger(__name__)

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
ACTIVE = (QUEUED, RUNNING)

_bell_lock = threading.Lock()
_bell: list[Callable[[], object]] = []


def on_enqueue(callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` (from any thread) after each commit that queues a new request
    on the in-process queue.

    Returns the function that stops the calls.
    """
    with _bell_lock:
        _bell.append(callback)

    def remove() -> None:
        with _bell_lock:
            if callback in _bell:
                _bell.remove(callback)

    return remove


def _ring(_session: Session) -> None:
    with _bell_lock:
        callbacks = list(_bell)
    for callback in callbacks:
        callback()


def enqueue(
    session: Session,
    *,
    requested_by: str,
    source: str,
    login_id: int | None = None,
    portal: str | None = None,
    portal_org_id: str | None = None,
) -> ScanRequest:
    """Queue a scan, or return the identical one already queued or running, on the
    queue the session's database has."""
    from agent.crawl.queue import queue_for  # the queues name this module's statuses

    return queue_for(session).enqueue(
        session,
        requested_by=requested_by,
        source=source,
        login_id=login_id,
        portal=portal,
        portal_org_id=portal_org_id,
    )


def active_request(
    session: Session, login_id: int | None, portal: str | None, portal_org_id: str | None
) -> ScanRequest | None:
    """The request for exactly this scan that is queued or running, if any."""
    return session.exec(
        select(ScanRequest).where(
            col(ScanRequest.status).in_(ACTIVE),
            ScanRequest.login_id == login_id,
            ScanRequest.portal == portal,
            ScanRequest.portal_org_id == portal_org_id,
        )
    ).first()


class InProcessQueue:
    """The queue of one process and its database file: SQLite, ``accessrecon serve``."""

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
        request = ScanRequest(
            requested_by=requested_by,
            source=source,
            login_id=login_id,
            portal=portal,
            portal_org_id=portal_org_id,
        )
        session.add(request)
        session.flush()
        # after the commit, not now: a worker woken before it would find nothing to claim
        event.listen(session, "after_commit", _ring, once=True)
        return request

    async def run_pending(self, worker: Worker) -> int:
        """Run every request that can be claimed now, then every removal run asked
        for; returns how many ran."""
        engine = worker.runtime.engine
        ran = 0
        while True:
            with session_scope(engine) as session:
                request = claim_next(session)
            if request is None:
                break
            await worker.run_request(request)
            ran += 1
        with session_scope(engine) as session:
            plans = plans_to_run(session)
        for plan_id in plans:
            await worker.run_removals(plan_id)
            ran += 1
        return ran

    async def run_forever(self, worker: Worker, stop: asyncio.Event) -> None:
        """Run requests until ``stop``: on each poll, and at once when one is queued here."""
        loop = asyncio.get_running_loop()
        queued = asyncio.Event()
        stop_ringing = on_enqueue(lambda: loop.call_soon_threadsafe(queued.set))
        try:
            while not stop.is_set():
                try:
                    ran = await self.run_pending(worker)
                except Exception:  # a broken request must not stop the queue
                    log.exception("the scan worker failed; it will try again")
                    ran = 0
                if not ran:
                    await _doze(worker.poll_s, stop, queued)
        finally:
            stop_ringing()


async def _doze(poll_s: float, stop: asyncio.Event, queued: asyncio.Event) -> None:
    """Wait for the poll interval, a request queued in this process, or ``stop``."""
    waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(queued.wait())}
    try:
        await asyncio.wait(waits, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    queued.clear()


def claim_next(session: Session) -> ScanRequest | None:
    """Take the oldest queued request whose login has nothing running, marking it running.

    The in-process queue's claim (SQLite); on PostgreSQL procrastinate hands out jobs.
    The status update is conditional, so two workers cannot claim the same request.
    """
    running_logins = set(
        session.exec(select(ScanRequest.login_id).where(ScanRequest.status == RUNNING))
    )
    running_portals = set(
        session.exec(select(ScanRequest.portal).where(ScanRequest.status == RUNNING))
    )
    for request in session.exec(
        select(ScanRequest)
        .where(ScanRequest.status == QUEUED)
        .order_by(col(ScanRequest.requested_at), col(ScanRequest.id))
    ).all():
        busy = (
            (request.login_id is not None and request.login_id in running_logins)
            or (request.portal is not None and request.portal in running_portals)
            or (None in running_portals and None in running_logins)
        )
        if busy:
            continue
        claimed = session.exec(
            update(ScanRequest)
            .where(col(ScanRequest.id) == request.id, col(ScanRequest.status) == QUEUED)
            .values(status=RUNNING, started_at=utcnow())
        )
        if claimed.rowcount == 1:
            session.flush()
            session.refresh(request)
            return request
    return None


def record_progress(
    session: Session,
    request_id: int,
    *,
    done: int,
    failed: int,
    total: int | None,
    crawl_id: int | None = None,
) -> None:
    request = session.get(ScanRequest, request_id)
    if request is None:
        return
    request.done, request.failed, request.total = done, failed, total
    if crawl_id is not None:
        request.crawl_id = crawl_id
    session.add(request)


def finish(session: Session, request_id: int, *, ok: bool, detail: str = "") -> None:
    request = session.get(ScanRequest, request_id)
    if request is None:
        return
    request.status = DONE if ok else FAILED
    request.finished_at = utcnow()
    request.detail = fit(detail, ScanRequest.detail)
    session.add(request)


def get_request(session: Session, request_id: int) -> ScanRequest | None:
    return session.get(ScanRequest, request_id)
