"""Handing approved items to a ``remove run`` once each, and recording what happened.

A run claims items with one conditional UPDATE (approved or failed items, and
running items whose claim is older than the lease: a run that crashed), so two runs
of one plan at once never hold the same item. Every later write names the run's
claim token, so a run whose claim was taken over cannot overwrite what the new
holder found.

Before each removal request the attempt is counted (``note_attempt``) in its own
transaction: a run that crashes after sending one knows, when resumed, that the org
must be read again before anything is sent. It always is: the run reads each org
before touching it, and an item whose user the read no longer shows is verified,
never removed again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import Portal, RemovalState
from agent.security.audit import record
from agent.services.removals.client_requests import open_request
from agent.storage.models import Org, RemovalItem
from agent.storage.widths import fit

__all__ = [
    "ClaimedItem",
    "claim_items",
    "mark_blocked",
    "mark_failed",
    "mark_gone",
    "mark_refused",
    "mark_removed",
    "new_claim_token",
    "note_attempt",
    "plan_item_ids",
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
    session.execute(
        update(RemovalItem)
        .where(
            col(RemovalItem.plan_id) == plan_id,
            or_(
                col(RemovalItem.state).in_([RemovalState.APPROVED, RemovalState.FAILED]),
                (col(RemovalItem.state) == RemovalState.RUNNING)
                & (col(RemovalItem.claimed_at) <= stale),
            ),
        )
        .values(state=RemovalState.RUNNING, claim_token=token, claimed_at=when, updated_at=when)
    )
    rows = session.exec(
        select(RemovalItem, Org)
        .join(Org, col(Org.id) == col(RemovalItem.org_id))
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
        )
        for item, org in rows
    ]


def _held(session: Session, item_id: int, token: str) -> RemovalItem | None:
    item = session.get(RemovalItem, item_id, with_for_update=True)
    if item is None or item.claim_token != token or item.state != RemovalState.RUNNING:
        return None
    return item


def note_attempt(session: Session, item_id: int, token: str) -> bool:
    """Count an attempt before the request is sent; ``False`` if the claim was lost."""
    item = _held(session, item_id, token)
    if item is None:
        return False
    item.attempts += 1
    item.updated_at = utcnow()
    session.add(item)
    record(
        session,
        actor=RUN_ACTOR,
        action="removal.attempted",
        detail={
            "item_id": item_id,
            "org_id": item.org_id,
            "identity": item.identity,
            "attempt": item.attempts,
        },
    )
    return True


def mark_removed(session: Session, item_id: int, token: str, detail: str) -> None:
    """The portal said the user was removed; a later ok scan verifies it."""
    item = _held(session, item_id, token)
    if item is None:
        return
    _finish(session, item, RemovalState.REMOVED, detail, "removal.removed")
    item.removed_at = item.updated_at


def mark_gone(session: Session, item_id: int, token: str, *, scan_id: int, detail: str) -> None:
    """An ok scan no longer shows the user: verified removed."""
    item = _held(session, item_id, token)
    if item is None:
        return
    _finish(session, item, RemovalState.VERIFIED, detail, "removal.verified")
    item.verified_at = item.updated_at
    item.verified_scan_id = scan_id
    if item.removed_at is None:
        item.removed_at = item.updated_at


def mark_refused(session: Session, item_id: int, token: str, reason: str) -> None:
    """The portal refused (403/409): only the client can act, so the client is asked."""
    item = _held(session, item_id, token)
    if item is None:
        return
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


def mark_failed(session: Session, item_id: int, token: str, reason: str) -> None:
    """Not carried out and not known gone; ``remove run`` may take it again."""
    item = _held(session, item_id, token)
    if item is None:
        return
    _finish(session, item, RemovalState.FAILED, reason, "removal.failed")


def _finish(
    session: Session, item: RemovalItem, state: RemovalState, detail: str, action: str
) -> None:
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
