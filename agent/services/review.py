"""Review state: what people decided to do about each finding, and when it changed.

States and who moves a finding between them::

    open ──► acknowledged ──► accepted_risk (reason, expiry) ──► open (expired)
      │           │                 │
      └───────────┴──► removal_requested ──► verified_removed (by a later ok scan)

* A person acknowledges, accepts the risk (a reason and an expiry date in the
  future are required; the finding reopens by itself the day after the expiry),
  requests removal, or reopens. Only findings that need action
  (``FindingClass.is_problem``) and are not resolved can be reviewed.
* ``verified_removed`` is never set by a person: only a later ok scan that no
  longer shows the access sets it (``agent.services.findings``), and only from
  ``removal_requested``.
* Reconcile reopens a finding whose class changes, or which comes back after it
  was resolved: the decision was about something else.

Every change is a ``FindingReview`` row (who, when, from, to, why, expiry) and an
``AuditEvent`` (``finding.reviewed``) in the same transaction, so neither exists
without the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass, ReviewState
from agent.storage.models import AuditEvent, Finding, FindingReview, Org
from agent.storage.widths import fit

#: The actor recorded for changes the product makes by itself.
SYSTEM = "system"

_PERSON_MOVES: dict[ReviewState, frozenset[ReviewState]] = {
    ReviewState.ACKNOWLEDGED: frozenset({ReviewState.OPEN}),
    ReviewState.ACCEPTED_RISK: frozenset(
        {
            ReviewState.OPEN,
            ReviewState.ACKNOWLEDGED,
            ReviewState.REMOVAL_REQUESTED,
            ReviewState.ACCEPTED_RISK,
        }
    ),
    ReviewState.REMOVAL_REQUESTED: frozenset(
        {
            ReviewState.OPEN,
            ReviewState.ACKNOWLEDGED,
            ReviewState.ACCEPTED_RISK,
        }
    ),
    ReviewState.OPEN: frozenset(
        {
            ReviewState.ACKNOWLEDGED,
            ReviewState.ACCEPTED_RISK,
            ReviewState.REMOVAL_REQUESTED,
        }
    ),
}


class ReviewError(ValueError):
    """A review action that cannot be taken; the message says why."""


def record_transition(
    session: Session,
    finding: Finding,
    to_state: ReviewState,
    *,
    actor: str,
    reason: str = "",
    expires_on: date | None = None,
    at: datetime | None = None,
) -> FindingReview:
    """Move a finding to ``to_state`` and record who did it, when and why (no checks)."""
    assert finding.id is not None
    reason = fit(reason, FindingReview.reason)
    event = FindingReview(
        finding_id=finding.id,
        at=at or utcnow(),
        actor=fit(actor, FindingReview.actor),
        from_state=finding.review_state,
        to_state=to_state,
        reason=reason,
        expires_on=expires_on,
    )
    finding.review_state = to_state
    session.add(finding)
    session.add(event)
    session.add(
        AuditEvent(
            at=event.at,
            actor=fit(actor, AuditEvent.actor),
            action="finding.reviewed",
            detail={
                "finding_id": finding.id,
                "org_id": finding.org_id,
                "identity": finding.identity,
                "class": finding.finding_class,
                "from": event.from_state,
                "to": to_state,
                "reason": reason,
                "expires_on": expires_on.isoformat() if expires_on else None,
            },
        )
    )
    return event


def _reviewable(session: Session, finding_id: int) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise ReviewError(f"no finding {finding_id}")
    if finding.resolved_at is not None:
        raise ReviewError(
            f"finding {finding_id} is resolved (the access is gone): nothing to review"
        )
    if not FindingClass(finding.finding_class).is_problem:
        raise ReviewError(
            f"finding {finding_id} is {finding.finding_class}, which needs "
            "no action, so it has no review state to change"
        )
    return finding


def _move(
    session: Session,
    finding_id: int,
    to_state: ReviewState,
    *,
    actor: str,
    reason: str,
    expires_on: date | None = None,
) -> FindingReview:
    if not actor.strip():
        raise ReviewError("say who is acting (an actor is required)")
    finding = _reviewable(session, finding_id)
    current = ReviewState(finding.review_state)
    if current not in _PERSON_MOVES[to_state]:
        raise ReviewError(
            f"finding {finding_id} is {current}; it cannot be moved to {to_state} by a person"
        )
    return record_transition(
        session, finding, to_state, actor=actor, reason=reason, expires_on=expires_on
    )


def acknowledge(session: Session, finding_id: int, *, actor: str, reason: str = "") -> None:
    """Someone has seen the finding and owns following it up."""
    _move(session, finding_id, ReviewState.ACKNOWLEDGED, actor=actor, reason=reason)


def accept_risk(
    session: Session,
    finding_id: int,
    *,
    actor: str,
    reason: str,
    expires_on: date,
    today: date | None = None,
) -> None:
    """Leave the access in place until ``expires_on``, for a stated reason; then it reopens."""
    if not reason.strip():
        raise ReviewError("accepting a risk needs a reason")
    if expires_on <= (today or utcnow().date()):
        raise ReviewError(f"the expiry date {expires_on.isoformat()} must be in the future")
    _move(
        session,
        finding_id,
        ReviewState.ACCEPTED_RISK,
        actor=actor,
        reason=reason,
        expires_on=expires_on,
    )


def request_removal(session: Session, finding_id: int, *, actor: str, reason: str = "") -> None:
    """The access has been asked to be removed; a later ok scan without it verifies that."""
    _move(session, finding_id, ReviewState.REMOVAL_REQUESTED, actor=actor, reason=reason)


def reopen(session: Session, finding_id: int, *, actor: str, reason: str = "") -> None:
    """Undo a review decision: the finding needs attention again."""
    _move(session, finding_id, ReviewState.OPEN, actor=actor, reason=reason)


def risk_expiry(session: Session, finding_id: int) -> date | None:
    """The expiry of the finding's latest risk acceptance, if any."""
    return session.exec(
        select(col(FindingReview.expires_on))
        .where(
            FindingReview.finding_id == finding_id,
            FindingReview.to_state == ReviewState.ACCEPTED_RISK,
        )
        .order_by(col(FindingReview.id).desc())
    ).first()


def expire_accepted_risks(session: Session, *, today: date | None = None) -> int:
    """Reopen every accepted risk whose expiry has passed; returns how many reopened."""
    today = today or utcnow().date()
    reopened = 0
    accepted = session.exec(
        select(Finding).where(Finding.review_state == ReviewState.ACCEPTED_RISK)
    ).all()
    for finding in accepted:
        assert finding.id is not None
        expiry = risk_expiry(session, finding.id)
        if expiry is None or expiry < today:
            reason = (
                f"the accepted risk expired on {expiry.isoformat()}"
                if expiry
                else "the accepted risk had no expiry"
            )
            record_transition(session, finding, ReviewState.OPEN, actor=SYSTEM, reason=reason)
            reopened += 1
    if reopened:
        session.flush()
    return reopened


def history(session: Session, finding_id: int) -> list[FindingReview]:
    """Every review change of a finding, oldest first."""
    return list(
        session.exec(
            select(FindingReview)
            .where(FindingReview.finding_id == finding_id)
            .order_by(col(FindingReview.id))
        )
    )


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One open finding as a reviewer sees it."""

    finding_id: int
    portal: str
    portal_org_id: str
    org_name: str
    email: str
    name: str
    finding_class: str
    severity: str
    review_state: str
    removable_by: str
    removable_reason: str
    first_seen_at: datetime
    last_seen_at: datetime
    detail: str
    risk_expires_on: date | None


def review_queue(
    session: Session,
    *,
    states: Sequence[str] = (),
    classes: Sequence[str] = (),
    include_ok: bool = False,
) -> list[ReviewItem]:
    """Unresolved findings with their ids and review state, worst class first.

    By default only classes that need action; ``include_ok`` adds managed access and
    client users.
    """
    query = (
        select(Finding, Org)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .where(col(Finding.resolved_at).is_(None))
    )
    if states:
        query = query.where(col(Finding.review_state).in_(list(states)))
    if classes:
        query = query.where(col(Finding.finding_class).in_(list(classes)))
    elif not include_ok:
        query = query.where(
            col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem])
        )
    order = {c.value: i for i, c in enumerate(FindingClass)}
    items = []
    for finding, org in session.exec(query):
        assert finding.id is not None
        expiry = (
            risk_expiry(session, finding.id)
            if finding.review_state == ReviewState.ACCEPTED_RISK
            else None
        )
        items.append(
            ReviewItem(
                finding_id=finding.id,
                portal=org.portal,
                portal_org_id=org.portal_org_id,
                org_name=org.name,
                email=finding.email,
                name=finding.name,
                finding_class=finding.finding_class,
                severity=finding.severity,
                review_state=finding.review_state,
                removable_by=finding.removable_by,
                removable_reason=finding.removable_reason,
                first_seen_at=finding.first_seen_at,
                last_seen_at=finding.last_seen_at,
                detail=finding.detail,
                risk_expires_on=expiry,
            )
        )
    items.sort(key=lambda i: (order.get(i.finding_class, 99), i.portal, i.org_name, i.email))
    return items
