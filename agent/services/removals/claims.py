"""Handing approved items to a ``remove run`` once each, and recording what happened.

A run claims items with one conditional UPDATE (approved or failed items, and
running items whose claim is older than the lease: a run that crashed), so two runs
of one plan at once never hold the same item. Every later write names the run's
claim token, so a run whose claim was taken over cannot overwrite what the new
holder found.

What a run found is written once per org (``record_outcomes``), after its requests:
an item a run held before (``resumed``: its claim was taken over, or it failed) may
have had its removal carried out without the answer being recorded, so the run reads
its org before sending anything, and an item whose user that read no longer shows is
verified, never removed again. An item planned from the org's latest ok scan and
never run before is sent straight away: nothing can have changed unseen.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import Portal, RemovalState
from agent.security.audit import record
from agent.services.removals.client_requests import open_request
from agent.storage.models import Org, RemovalItem, Scan
from agent.storage.widths import fit

__all__ = [
    "ClaimedItem",
    "Outcome",
    "claim_items",
    "mark_blocked",
    "mark_failed",
    "mark_gone",
    "mark_refused",
    "mark_removed",
    "new_claim_token",
    "plan_item_ids",
    "record_outcomes",
]

#: the actor the run's own records name
RUN_ACTOR = "system:remove-run"


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """An item a run holds, with what it needs to find the user in the portal."""

    id: int
    org_pk: int
    portal: Portal
    portal_org_id: str
    org_name: str
    login_id: int | None
    identity: str
    email: str
    name: str
    portal_user_id: str | None
    #: earlier attempts: a non-zero count means a removal may already have been sent
    attempts: int
    #: a run held the item before this one (a crash, a failure): read the org first
    resumed: bool
    #: the ok scan the item was planned from, and the org's latest ok agent scan
    planned_scan_id: int | None
    latest_scan_id: int | None

    @property
    def needs_read(self) -> bool:
        """Whether the org must be read before this item's removal is sent."""
        return (
            self.resumed
            or self.attempts > 0
            or not self.portal_user_id
            or self.planned_scan_id != self.latest_scan_id
        )


def new_claim_token() -> str:
    return secrets.token_hex(8)


def plan_item_ids(session: Session, plan_id: int) -> list[int]:
    return [
        i
        for i in session.exec(
            select(RemovalItem.id)
            .where(RemovalItem.plan_id == plan_id)
            .order_by(col(RemovalItem.id))
        )
        if i is not None
    ]


def claim_items(
    session: Session,
    plan_id: int,
    token: str,
    *,
    lease_s: float,
    now: datetime | None = None,
) -> list[ClaimedItem]:
    """Claim the plan's runnable items for the run holding ``token``; the caller commits."""
    when = now or utcnow()
    stale = when - timedelta(seconds=lease_s)
    runnable = and_(
        col(RemovalItem.plan_id) == plan_id,
        or_(
            col(RemovalItem.state).in_([RemovalState.APPROVED, RemovalState.FAILED]),
            (col(RemovalItem.state) == RemovalState.RUNNING)
            & (col(RemovalItem.claimed_at) <= stale),
        ),
    )
    held_before = set(
        session.exec(
            select(RemovalItem.id).where(runnable, col(RemovalItem.claimed_at).is_not(None))
        )
    )
    session.execute(
        update(RemovalItem)
        .where(runnable)
        .values(state=RemovalState.RUNNING, claim_token=token, claimed_at=when, updated_at=when)
    )
    latest = (
        select(Scan.org_id, func.max(Scan.id).label("scan_id"))
        .where(Scan.status == "ok", Scan.source == "agent")
        .group_by(col(Scan.org_id))
        .subquery()
    )
    rows = session.exec(
        select(RemovalItem, Org, latest.c.scan_id)
        .join(Org, col(Org.id) == col(RemovalItem.org_id))
        .join(latest, latest.c.org_id == col(Org.id), isouter=True)
        .where(RemovalItem.claim_token == token, RemovalItem.state == RemovalState.RUNNING)
        .order_by(col(RemovalItem.org_id), col(RemovalItem.id))
    ).all()
    return [
        ClaimedItem(
            id=item.id or 0,
            org_pk=org.id or 0,
            portal=Portal(org.portal),
            portal_org_id=org.portal_org_id,
            org_name=org.name,
            login_id=org.login_id,
            identity=item.identity,
            email=item.email,
            name=item.name,
            portal_user_id=item.portal_user_id,
            attempts=item.attempts,
            resumed=item.id in held_before,
            planned_scan_id=item.planned_scan_id,
            latest_scan_id=scan_id,
        )
        for item, org, scan_id in rows
    ]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run found for one item, written with the rest of its org's."""

    item_id: int
    state: RemovalState
    detail: str
    #: removal requests this run sent for the item
    sent: int = 0
    #: the ok scan that no longer showed the user (``verified``)
    scan_id: int | None = None
    #: when the portal answered: a scan started before it is no evidence either way
    at: datetime | None = None


def record_outcomes(session: Session, token: str, outcomes: Sequence[Outcome]) -> None:
    """Write one org's outcomes; items whose claim this run lost are left alone."""
    ids = [o.item_id for o in outcomes]
    # One locking read for them all; the marks below find them in the session's
    # identity map, which holds them only while they are referenced: hence ``held``.
    held = list(
        session.exec(select(RemovalItem).where(col(RemovalItem.id).in_(ids)).with_for_update())
    )
    session.info[_LOCKED] = bool(held)
    for outcome in outcomes:
        if outcome.state == RemovalState.VERIFIED:
            assert outcome.scan_id is not None
            mark_gone(
                session,
                outcome.item_id,
                token,
                scan_id=outcome.scan_id,
                detail=outcome.detail,
                sent=outcome.sent,
            )
        elif outcome.state == RemovalState.REMOVED:
            mark_removed(
                session, outcome.item_id, token, outcome.detail, sent=outcome.sent, at=outcome.at
            )
        elif outcome.state == RemovalState.REQUESTED:
            mark_refused(session, outcome.item_id, token, outcome.detail, sent=outcome.sent)
        elif outcome.state == RemovalState.BLOCKED:
            mark_blocked(session, outcome.item_id, token, outcome.detail)
        else:
            mark_failed(session, outcome.item_id, token, outcome.detail, sent=outcome.sent)


#: ``session.info`` key: ``record_outcomes`` locked the items it writes in one read
_LOCKED = "removal_items_locked"


def _held(session: Session, item_id: int, token: str) -> RemovalItem | None:
    locked = session.info.get(_LOCKED, False)
    item = session.get(RemovalItem, item_id, with_for_update=not locked)
    if item is None or item.claim_token != token or item.state != RemovalState.RUNNING:
        return None
    return item


def mark_removed(
    session: Session,
    item_id: int,
    token: str,
    detail: str,
    *,
    sent: int = 1,
    at: datetime | None = None,
) -> None:
    """The portal said the user was removed (at ``at``); a later ok scan verifies it."""
    item = _held(session, item_id, token)
    if item is None:
        return
    _finish(session, item, RemovalState.REMOVED, detail, "removal.removed", sent)
    item.removed_at = at or item.updated_at


def mark_gone(
    session: Session, item_id: int, token: str, *, scan_id: int, detail: str, sent: int = 0
) -> None:
    """An ok scan no longer shows the user: verified removed."""
    item = _held(session, item_id, token)
    if item is None:
        return
    _finish(session, item, RemovalState.VERIFIED, detail, "removal.verified", sent)
    item.verified_at = item.updated_at
    item.verified_scan_id = scan_id
    if item.removed_at is None:
        item.removed_at = item.updated_at


def mark_refused(session: Session, item_id: int, token: str, reason: str, *, sent: int = 0) -> None:
    """The portal refused (403/409): only the client can act, so the client is asked."""
    item = _held(session, item_id, token)
    if item is None:
        return
    item.attempts += sent
    _finish(
        session, item, RemovalState.REQUESTED, f"the portal refused: {reason}", "removal.refused"
    )
    item.removable_by = "client"
    item.removable_reason = fit(reason, RemovalItem.removable_reason)
    session.flush()
    open_request(session, item, requested_by=RUN_ACTOR, why_client=reason)


def mark_blocked(session: Session, item_id: int, token: str, barrier: str) -> None:
    """A barrier the fresh read showed (the last user who manages users): never sent."""
    item = _held(session, item_id, token)
    if item is None:
        return
    item.barrier = fit(barrier, RemovalItem.barrier)
    _finish(session, item, RemovalState.BLOCKED, barrier, "removal.blocked")


def mark_failed(session: Session, item_id: int, token: str, reason: str, *, sent: int = 0) -> None:
    """Not carried out and not known gone; ``remove run`` may take it again."""
    item = _held(session, item_id, token)
    if item is None:
        return
    _finish(session, item, RemovalState.FAILED, reason, "removal.failed", sent)


def _finish(
    session: Session,
    item: RemovalItem,
    state: RemovalState,
    detail: str,
    action: str,
    sent: int = 0,
) -> None:
    item.attempts += sent
    item.state = state
    item.detail = fit(detail, RemovalItem.detail)
    item.updated_at = utcnow()
    item.claim_token = ""
    session.add(item)
    record(
        session,
        actor=RUN_ACTOR,
        action=action,
        detail={
            "item_id": item.id,
            "plan_id": item.plan_id,
            "org_id": item.org_id,
            "identity": item.identity,
            "detail": item.detail[:200],
        },
    )


def release(session: Session, item_ids: Sequence[int], token: str, reason: str) -> None:
    """Items a run could not get to (its login would not sign in): failed, with why."""
    for item_id in item_ids:
        mark_failed(session, item_id, token, reason)
