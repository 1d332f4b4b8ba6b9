"""What the API changes: passive captures, review decisions, scan requests.

Each function takes the caller's ``Principal`` for the audit log and works inside
the caller's transaction; the routes commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.crawl.scan_queue import enqueue
from agent.domain import AccessStatus, FailureReason, Portal, ReviewState, ScanSource, ScanStatus
from agent.security.audit import record
from agent.security.auth import Principal
from agent.services import review
from agent.services.findings import reconcile
from agent.services.scans import find_org, record_failed_scan, upsert_org
from agent.services.scans import record_capture as record_user_list
from agent.storage.models import ScanRequest


@dataclass(frozen=True, slots=True)
class CapturedUser:
    email: str
    name: str
    role: str
    status: AccessStatus
    extra_permissions: tuple[str, ...] = ()


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


def capture_problem(users: Sequence[CapturedUser], shown_count: int) -> str:
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
    principal: Principal,
    portal: Portal,
    portal_org_id: str,
    org_name: str,
    users: Sequence[CapturedUser],
    shown_count: int,
    practice_domains: Sequence[str],
) -> CaptureResult:
    """Record an extension capture as a scan (ok or failed) and reconcile that org only.

    A capture is what one person's browser says a page showed, so it may raise
    findings but never resolve or lower one (``agent.services.findings.apply_capture``). When
    it leaves out access a finding records, or is held as a suspect drop, an agent
    scan of the org is queued to settle it. The org's name as the capture gives it
    names a new org only: a known org keeps the name its portal listing gave it.
    """
    started = utcnow()
    org = find_org(session, portal, portal_org_id)
    if org is None:
        org = upsert_org(session, OrgRef(portal, portal_org_id, org_name), login_id=None)
    assert org.id is not None
    ref = OrgRef(portal, portal_org_id, org.name)
    problem = capture_problem(users, shown_count)
    not_shown = 0
    if problem:
        outcome = record_failed_scan(
            session,
            org_id=org.id,
            reason=FailureReason.LAYOUT_CHANGED,
            detail=f"extension capture by {principal.actor}: {problem}",
            started_at=started,
            source=ScanSource.EXTENSION,
        )
    else:
        rows = tuple(
            PortalUser(
                email=u.email,
                name=u.name,
                role=u.role,
                status=u.status,
                extra_permissions=u.extra_permissions,
            )
            for u in users
        )
        # the crawler's rule: a sudden drop to nobody is held as suspect, not applied
        outcome = record_user_list(
            session,
            org_id=org.id,
            started_at=started,
            source=ScanSource.EXTENSION,
            result=OrgUsers(
                ref,
                rows,
                shown_count,
                f"extension capture by {principal.actor}: the page showed {shown_count} users",
            ),
        )
        summary = reconcile(session, configured_domains=practice_domains, org_ids=[org.id])
        not_shown = summary.capture_missing
    record(
        session,
        actor=principal.actor,
        action="scan.captured",
        detail={
            "portal": portal.value,
            "portal_org_id": portal_org_id,
            "org_name": org_name,
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
        request_id = request_scan(
            session,
            principal=principal,
            portal=portal,
            portal_org_id=portal_org_id,
            source="capture",
        ).id
    return CaptureResult(
        scan_id=outcome.scan_id,
        org_id=org.id,
        ok=not problem,
        user_count=len(users),
        problem=problem,
        status=str(outcome.status),
        not_shown=not_shown,
        scan_request_id=request_id,
    )


def decide_review(
    session: Session,
    *,
    finding_id: int,
    decision: ReviewState,
    principal: Principal,
    reason: str,
    until: date | None,
) -> None:
    """Apply a review decision through ``agent.services.review`` (which writes the audit event).

    Raises ``review.ReviewError`` for a move the review state machine refuses.
    """
    actor = principal.actor
    if decision is ReviewState.ACKNOWLEDGED:
        review.acknowledge(session, finding_id, actor=actor, reason=reason)
    elif decision is ReviewState.ACCEPTED_RISK:
        if until is None:
            raise review.ReviewError("accepting a risk needs an expiry date (until)")
        review.accept_risk(session, finding_id, actor=actor, reason=reason, expires_on=until)
    elif decision is ReviewState.REMOVAL_REQUESTED:
        review.request_removal(session, finding_id, actor=actor, reason=reason)
    elif decision is ReviewState.OPEN:
        review.reopen(session, finding_id, actor=actor, reason=reason)
    else:
        raise review.ReviewError(
            f"{decision} is set by a later scan that no longer shows the access, not by a person"
        )


def request_scan(
    session: Session,
    *,
    principal: Principal,
    login_id: int | None = None,
    portal: Portal | None = None,
    portal_org_id: str | None = None,
    source: str = "api",
) -> ScanRequest:
    """Queue a re-scan (or return the identical one already queued) and audit the request."""
    request = enqueue(
        session,
        requested_by=principal.actor,
        source=source,
        login_id=login_id,
        portal=portal.value if portal else None,
        portal_org_id=portal_org_id,
    )
    record(
        session,
        actor=principal.actor,
        action="scan.requested",
        detail={
            "scan_request_id": request.id,
            "login_id": login_id,
            "portal": portal.value if portal else None,
            "portal_org_id": portal_org_id,
            "source": source,
        },
    )
    return request
