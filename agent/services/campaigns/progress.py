"""After a decision: what the scans confirm, how far each reviewer is, when a campaign closes.

An item is **settled** when nothing more is owed on it:

* ``keep`` — settled when decided;
* ``already gone`` — settled when an ok agent scan of the org, finished after the
  decision, no longer shows the access; if that scan still shows it, the claim was
  wrong and the item is open again, for the same reviewer, saying which scan showed it;
* ``remove`` — settled when its removal is verified by a scan, or has become a request
  to the client (only the client can remove it, or the portal refused);
* ``not my client`` never stays on an item: it hands the item to someone else, open.

A campaign closes by itself, on the first ``follow_up`` after its last item settled
(every settle runs one), and takes no decision after that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import CampaignDecision, RemovalState
from agent.security.audit import record
from agent.services.removals.plans import latest_ok_scans
from agent.services.removals.verification import shown_identities
from agent.storage.models import Campaign, CampaignItem, ClientRequest, RemovalItem

__all__ = [
    "CampaignProgress",
    "FollowedUp",
    "ReviewerProgress",
    "campaign_progress",
    "follow_up",
    "item_state",
    "items_by_state",
    "list_campaigns",
]

#: What an item waits for, or that it is settled; shown in lists and the workbook.
OPEN = "open"
SETTLED = "settled"
AWAITING_SCAN = "awaiting scan"
AWAITING_REMOVAL = "awaiting removal"


@dataclass(slots=True)
class FollowedUp:
    confirmed: int = 0
    reopened: int = 0
    closed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReviewerProgress:
    reviewer: str
    items: int = 0
    decided: int = 0
    settled: int = 0
    escalated: int = 0
    decisions: Counter[str] = field(default_factory=Counter)

    @property
    def open(self) -> int:
        return self.items - self.decided


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    campaign: Campaign
    reviewers: list[ReviewerProgress]

    @property
    def items(self) -> int:
        return sum(r.items for r in self.reviewers)

    @property
    def decided(self) -> int:
        return sum(r.decided for r in self.reviewers)

    @property
    def settled(self) -> int:
        return sum(r.settled for r in self.reviewers)

    def overdue(self, today: date) -> bool:
        return self.campaign.closed_at is None and today > self.campaign.due_on


def item_state(item: CampaignItem, removal: RemovalItem | None, requested: bool) -> str:
    """``open``, ``settled`` or what a decided item still waits for."""
    if not item.decision:
        return OPEN
    if item.decision == CampaignDecision.KEEP:
        return SETTLED
    if item.decision == CampaignDecision.ALREADY_GONE:
        return SETTLED if item.confirmed_gone_at is not None else AWAITING_SCAN
    if item.decision == CampaignDecision.REMOVE:
        if item.confirmed_gone_at is not None or requested:
            return SETTLED
        if removal is not None and removal.state in (RemovalState.VERIFIED, RemovalState.REQUESTED):
            return SETTLED
        return AWAITING_REMOVAL
    return OPEN


def follow_up(
    session: Session, *, org_ids: Iterable[int] | None = None, now: datetime | None = None
) -> FollowedUp:
    """Check open campaigns' decided items against the latest scans and removals, then
    close every campaign with nothing left. The commit is the caller's."""
    now = now or utcnow()
    result = FollowedUp()
    open_ids = list(session.exec(select(Campaign.id).where(col(Campaign.closed_at).is_(None))))
    if not open_ids:
        return result
    query = select(CampaignItem).where(
        col(CampaignItem.campaign_id).in_(open_ids),
        col(CampaignItem.decision).in_(
            [CampaignDecision.ALREADY_GONE.value, CampaignDecision.REMOVE.value]
        ),
        col(CampaignItem.confirmed_gone_at).is_(None),
    )
    if org_ids is not None:
        query = query.where(col(CampaignItem.org_id).in_(list(org_ids)))
    waiting = list(session.exec(query))
    _confirm_removals(
        session, [i for i in waiting if i.decision == CampaignDecision.REMOVE], result
    )
    _check_gone(
        session, [i for i in waiting if i.decision == CampaignDecision.ALREADY_GONE], result
    )
    for campaign_id in open_ids:
        assert campaign_id is not None
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        if _all_settled(session, campaign_id):
            campaign.closed_at = now
            session.add(campaign)
            record(
                session,
                actor="campaigns",
                action="campaign.closed",
                detail={"campaign_id": campaign_id, "name": campaign.name},
            )
            result.closed.append(campaign.name)
    session.flush()
    return result


def _confirm_removals(session: Session, items: list[CampaignItem], result: FollowedUp) -> None:
    ids = [i.removal_item_id for i in items if i.removal_item_id is not None]
    if not ids:
        return
    removals = {
        r.id: r for r in session.exec(select(RemovalItem).where(col(RemovalItem.id).in_(ids)))
    }
    for item in items:
        removal = removals.get(item.removal_item_id) if item.removal_item_id else None
        if removal is not None and removal.state == RemovalState.VERIFIED:
            item.confirmed_gone_at = removal.verified_at
            item.confirmed_scan_id = removal.verified_scan_id
            session.add(item)
            result.confirmed += 1


def _check_gone(session: Session, items: list[CampaignItem], result: FollowedUp) -> None:
    if not items:
        return
    latest = latest_ok_scans(session, {i.org_id for i in items})
    shown = shown_identities(session, [s.id for s in latest.values() if s.id is not None])
    for item in items:
        scan = latest.get(item.org_id)
        if scan is None or scan.id is None or item.decided_at is None:
            continue
        if scan.finished_at < item.decided_at or (item.scan_id or 0) >= scan.id:
            continue  # no scan since the claim
        if item.identity in shown.get(scan.id, set()):
            detail = (
                f"said already gone by {item.decided_by}, but scan {scan.id} on "
                f"{scan.finished_at:%Y-%m-%d} still shows the access"
            )
            record(
                session,
                actor="campaigns",
                action="campaign.reopened",
                detail={"campaign_id": item.campaign_id, "item_id": item.id, "scan_id": scan.id},
            )
            item.decision = ""
            item.reason = detail
            item.decided_by = ""
            item.decided_at = None
            result.reopened += 1
        else:
            item.confirmed_gone_at = scan.finished_at
            item.confirmed_scan_id = scan.id
            result.confirmed += 1
        session.add(item)


def _requested(session: Session, removal_ids: list[int]) -> set[int]:
    if not removal_ids:
        return set()
    return {
        r
        for r in session.exec(
            select(ClientRequest.item_id).where(col(ClientRequest.item_id).in_(removal_ids))
        )
        if r is not None
    }


def _states(session: Session, items: list[CampaignItem]) -> list[str]:
    ids = [i.removal_item_id for i in items if i.removal_item_id is not None]
    removals = (
        {r.id: r for r in session.exec(select(RemovalItem).where(col(RemovalItem.id).in_(ids)))}
        if ids
        else {}
    )
    requested = _requested(session, ids)
    return [
        item_state(
            item,
            removals.get(item.removal_item_id) if item.removal_item_id else None,
            item.removal_item_id in requested,
        )
        for item in items
    ]


def _all_settled(session: Session, campaign_id: int) -> bool:
    # Most settles find some item undecided: one count answers them without loading items.
    undecided = session.exec(
        select(func.count())
        .select_from(CampaignItem)
        .where(col(CampaignItem.campaign_id) == campaign_id, col(CampaignItem.decision) == "")
    ).one()
    if undecided:
        return False
    items = list(
        session.exec(select(CampaignItem).where(col(CampaignItem.campaign_id) == campaign_id))
    )
    return all(state == SETTLED for state in _states(session, items))


def campaign_progress(session: Session, campaign_id: int) -> CampaignProgress:
    """Progress by reviewer; an unknown campaign is a ``KeyError``."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise KeyError(campaign_id)
    items = list(
        session.exec(
            select(CampaignItem)
            .where(col(CampaignItem.campaign_id) == campaign_id)
            .order_by(col(CampaignItem.id))
        )
    )
    by_reviewer: dict[str, ReviewerProgress] = {}
    for item, state in zip(items, _states(session, items), strict=True):
        row = by_reviewer.setdefault(item.reviewer, ReviewerProgress(item.reviewer))
        row.items += 1
        if item.decision:
            row.decided += 1
            row.decisions[item.decision] += 1
        if state == SETTLED:
            row.settled += 1
        if item.escalated_at is not None:
            row.escalated += 1
    reviewers = sorted(
        by_reviewer.values(), key=lambda r: (r.reviewer == "", r.reviewer.casefold())
    )
    return CampaignProgress(campaign, reviewers)


def list_campaigns(session: Session) -> list[CampaignProgress]:
    """Every campaign, newest first, with its progress."""
    ids = session.exec(select(Campaign.id).order_by(col(Campaign.started_at).desc()))
    return [campaign_progress(session, i) for i in ids if i is not None]


def items_by_state(session: Session, items: list[CampaignItem]) -> dict[int, str]:
    """Each item's state (``item_state``) by item id, in a few queries."""
    return {
        item.id: state
        for item, state in zip(items, _states(session, items), strict=True)
        if item.id is not None
    }
