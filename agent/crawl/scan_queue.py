"""One queue for every re-scan: CLI, API, extension and the scheduler all enqueue here.

A request names a portal login, or one org. A worker claims requests one at a time
per login (never two crawls of one login at once), runs them, and writes progress
back so the server can show it. Asking again for something already queued or
running returns the existing request instead of queueing a duplicate.

A worker looks at the queue every few seconds; one in the same process as the
enqueuer (``accessrecon serve``) is also woken the moment a new request is
committed, so a re-scan clicked in the extension starts at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import event, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.storage.models import ScanRequest
from agent.storage.widths import fit

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
ACTIVE = (QUEUED, RUNNING)

_bell_lock = threading.Lock()
_bell: list[Callable[[], object]] = []


def on_enqueue(callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` (from any thread) after each commit that queues a new request.

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
    """Queue a scan, or return the identical one already queued or running."""
    existing = session.exec(
        select(ScanRequest).where(
            col(ScanRequest.status).in_(ACTIVE),
            ScanRequest.login_id == login_id,
            ScanRequest.portal == portal,
            ScanRequest.portal_org_id == portal_org_id,
        )
    ).first()
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


def claim_next(session: Session) -> ScanRequest | None:
    """Take the oldest queued request whose login has nothing running, marking it running.

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
