"""What the API changes: review decisions and scan requests.

Passive captures are ``agent.services.captures``.

Each function takes the caller's ``Principal`` for the audit log and works inside
the caller's transaction; the routes commit.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from agent.crawl.scan_queue import enqueue
from agent.domain import Portal, ReviewState
from agent.security.audit import record
from agent.security.principal import Principal
from agent.services import review
from agent.storage.models import ScanRequest


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
