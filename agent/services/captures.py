"""Passive captures: a user list the browser extension read off an org's Users page.

A capture is what one person's browser says a page showed, so it is held to the
crawler's rule (DESIGN.md, "No false empties"): rows that disagree with the page's
own count are recorded as a failed scan, never as the org's users. An ok capture is
recorded as a scan with source ``extension`` and settled like a crawl (reconcile,
then alerts: a new critical finding is alerted however it was found). It may raise
findings but never resolve or lower one (``agent.services.capture_findings.apply_capture``);
when it leaves out access a finding records, or is held as a suspect drop, an agent
scan of the org is queued to settle it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import FailureReason, ScanSource, ScanStatus
from agent.security.audit import record
from agent.services.scans import find_org, record_failed_scan, upsert_org
from agent.services.scans import record_capture as record_user_list
from agent.services.settle import settle
from agent.settings import Settings

QueueScan = Callable[[], int]
"""Queues an agent scan of the captured org for the caller and returns the request's id.

The scan queue belongs to the crawl engine, which services do not import, so the
caller (the API) passes how it queues one.
"""


@dataclass(frozen=True, slots=True)
class CaptureResult:
    scan_id: int
    org_id: int
    ok: bool
    user_count: int
    problem: str = ""
    #: the scan's status: ``ok``, ``suspect`` (a drop to nobody, held) or ``failed``
    status: str = "ok"
    #: open findings of the org this capture did not show: left open, awaiting a scan
    not_shown: int = 0
    #: the agent scan queued to settle what the capture could not, if one was
    scan_request_id: int | None = None


def capture_problem(users: Sequence[PortalUser], shown_count: int) -> str:
    """Why a captured list cannot be trusted as the org's whole user list, or ``""``.

    The page's own count is the evidence of completeness (DESIGN.md, "No false
    empties"): rows that disagree with it, an empty list the page did not call empty,
    or the same address twice mean the capture missed something.
    """
    if len(users) != shown_count:
        if not users:
            return (
                f"no user rows were captured but the page showed {shown_count} users; "
                "the list had not loaded"
            )
        return f"the page showed {shown_count} users but {len(users)} rows were captured"
    twice = [e for e, n in Counter(u.email.strip().casefold() for u in users).items() if n > 1]
    if twice:
        return f"the capture lists {twice[0]} more than once"
    return ""


def record_capture(
    session: Session,
    *,
    actor: str,
    settings: Settings,
    org: OrgRef,
    users: Sequence[PortalUser],
    shown_count: int,
    queue_scan: QueueScan,
) -> CaptureResult:
    """Record a capture as a scan (ok or failed); settle that org only if it is ok.

    ``org`` is the org as the capture names it: its name names a new org only, a
    known org keeps the name its portal listing gave it. Works inside the caller's
    transaction and writes the ``scan.captured`` audit event; the commit is the
    caller's.
    """
    started = utcnow()
    row = find_org(session, org.portal, org.portal_org_id)
    if row is None:
        row = upsert_org(session, org, login_id=None)
    assert row.id is not None
    problem = capture_problem(users, shown_count)
    not_shown = 0
    if problem:
        outcome = record_failed_scan(
            session,
            org_id=row.id,
            reason=FailureReason.LAYOUT_CHANGED,
            detail=f"extension capture by {actor}: {problem}",
            started_at=started,
            source=ScanSource.EXTENSION,
        )
    else:
        # the crawler's rule: a sudden drop to nobody is held as suspect, not applied
        outcome = record_user_list(
            session,
            org_id=row.id,
            started_at=started,
            source=ScanSource.EXTENSION,
            result=OrgUsers(
                OrgRef(org.portal, org.portal_org_id, row.name),
                tuple(users),
                shown_count,
                f"extension capture by {actor}: the page showed {shown_count} users",
            ),
        )
        not_shown = settle(session, settings, org_ids=[row.id]).findings.capture_missing
    record(
        session,
        actor=actor,
        action="scan.captured",
        detail={
            "portal": org.portal.value,
            "portal_org_id": org.portal_org_id,
            "org_name": org.name,
            "scan_id": outcome.scan_id,
            "ok": not problem,
            "status": str(outcome.status),
            "users": len(users),
            "shown_count": shown_count,
            "not_shown": not_shown,
        },
    )
    request_id = None
    if not_shown or outcome.status == ScanStatus.SUSPECT:
        request_id = queue_scan()
    return CaptureResult(
        scan_id=outcome.scan_id,
        org_id=row.id,
        ok=not problem,
        user_count=len(users),
        problem=problem,
        status=str(outcome.status),
        not_shown=not_shown,
        scan_request_id=request_id,
    )
