"""Deciding campaign items: keep, remove, not my client, already gone; one or in bulk.

A reviewer decides only the items in their own list (an item with no reviewer is the
practice admins'); a closed campaign takes no decision. A decision may be changed
until the campaign closes, except a removal already approved: the portal is about to
be (or has been) changed, so the plan is where that is undone.

* **keep** needs a reason for the access a practice most often has to justify: a
  direct invite, an unknown practice address, a leaver.
* **remove** builds a removal plan for the decided items, proposed by the reviewer,
  so a second person approves it exactly as any other plan (``services.removals``).
* **not my client** hands the item to the person named, else up the line (the
  client's partner, then the practice admins); it is open again for them.
* **already gone** is a claim the next ok scan of the org checks
  (``campaigns.progress``): if the access is still there, the item opens again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import CampaignDecision, FindingClass, RemovalState, ReviewerBasis
from agent.security.audit import record
from agent.security.principal import Principal
from agent.security.scope import manager_names, normalise_person_name
from agent.security.users import find_staff_member
from agent.services.campaigns.start import CampaignError
from agent.services.removals.plans import PlanRequest, RemovalError, plan_removals
from agent.storage.models import Campaign, CampaignItem, Client, RemovalItem, Staff
from agent.storage.widths import fit

__all__ = [
    "REASON_REQUIRED",
    "Decided",
    "Decision",
    "decide",
    "may_decide",
    "next_up",
    "open_campaign",
    "select_items",
]

#: Keeping these needs a reason a partner or an auditor can read later.
REASON_REQUIRED = frozenset(
    {
        FindingClass.INVITED_DIRECT,
        FindingClass.UNKNOWN_PRACTICE_USER,
        FindingClass.LEAVER_ACCESS,
    }
)

#: A removal in one of these states is under way or done: its decision stands.
_COMMITTED = frozenset(
    {RemovalState.APPROVED, RemovalState.RUNNING, RemovalState.REMOVED, RemovalState.VERIFIED}
)


@dataclass(frozen=True, slots=True)
class Decision:
    decision: CampaignDecision
    reason: str = ""
    #: with ``not_my_client``: who should review instead (a staff member's name or email)
    reassign_to: str | None = None


@dataclass(slots=True)
class Decided:
    items: list[int] = field(default_factory=list)
    plan_id: int | None = None
    reassigned_to: str | None = None


def open_campaign(session: Session, campaign_id: int) -> Campaign:
    """The campaign, refused if unknown or closed."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"no campaign with id {campaign_id}")
    if campaign.closed_at is not None:
        raise CampaignError(
            f"campaign {campaign.name!r} closed on {campaign.closed_at:%Y-%m-%d}: its "
            "decisions are final"
        )
    return campaign


def may_decide(principal: Principal, item: CampaignItem) -> bool:
    """Whether ``principal`` is the reviewer of ``item`` (the admins review unassigned items)."""
    if not item.reviewer:
        return principal.is_admin
    return normalise_person_name(item.reviewer) in manager_names(principal)


def select_items(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    item_ids: Sequence[int] = (),
    person: str | None = None,
    client: str | None = None,
) -> list[CampaignItem]:
    """The items a decision is about: by id, or every item of the reviewer's list for one
    person (name or email) or one client (the practice's client id or name)."""
    if sum([bool(item_ids), person is not None, client is not None]) != 1:
        raise CampaignError("say which items: item ids, or --person, or --client")
    query = select(CampaignItem).where(col(CampaignItem.campaign_id) == campaign_id)
    if item_ids:
        items = list(session.exec(query.where(col(CampaignItem.id).in_(list(item_ids)))).all())
        found = {i.id for i in items}
        missing = [i for i in item_ids if i not in found]
        if missing:
            raise CampaignError(
                f"campaign {campaign_id} has no item {', '.join(str(i) for i in missing)}"
            )
        for item in items:
            if not may_decide(principal, item):
                raise CampaignError(
                    f"item {item.id} is for {item.reviewer or 'the practice admins'} to "
                    f"decide, not {principal.name}"
                )
        return sorted(items, key=lambda i: i.id or 0)
    mine = [
        i for i in session.exec(query.order_by(col(CampaignItem.id))) if may_decide(principal, i)
    ]
    if person is not None:
        wanted = person.strip().casefold()
        named = normalise_person_name(person)
        staff_ids = {
            s.id for s in session.exec(select(Staff)) if normalise_person_name(s.name) == named
        }
        chosen = [
            i
            for i in mine
            if wanted in (i.email.casefold(), i.identity.casefold())
            or normalise_person_name(i.name) == named
            or (i.staff_id is not None and i.staff_id in staff_ids)
        ]
        what = f"person {person}"
    else:
        assert client is not None
        ids = _client_ids(session, client)
        chosen = [i for i in mine if i.client_id in ids]
        what = f"client {client}"
    if not chosen:
        raise CampaignError(
            f"nothing in {principal.name}'s list of campaign {campaign_id} for {what}"
        )
    return chosen


def _client_ids(session: Session, text: str) -> set[int]:
    wanted = text.strip()
    ids = {
        c.id
        for c in session.exec(select(Client))
        if c.id is not None
        and (
            c.external_id == wanted
            or normalise_person_name(c.name) == normalise_person_name(wanted)
        )
    }
    if not ids:
        raise CampaignError(f"no client with client id or name {text!r}")
    return ids


def decide(
    session: Session,
    principal: Principal,
    campaign_id: int,
    items: Sequence[CampaignItem],
    decision: Decision,
    *,
    now: datetime | None = None,
) -> Decided:
    """Record ``decision`` on ``items`` (from ``select_items``); refused whole if any
    item cannot take it. The commit is the caller's."""
    now = now or utcnow()
    campaign = open_campaign(session, campaign_id)
    if not items:
        raise CampaignError("no items to decide")
    reason = decision.reason.strip()
    _check(session, items, decision, reason)
    result = Decided(items=[i.id for i in items if i.id is not None])
    if decision.decision is CampaignDecision.NOT_MY_CLIENT:
        result.reassigned_to = _reassign(session, items, decision.reassign_to)
    else:
        if decision.decision is CampaignDecision.REMOVE:
            result.plan_id = _plan(session, principal, campaign, items)
        for item in items:
            if decision.decision is not CampaignDecision.REMOVE:
                item.removal_item_id = None
            item.decision = decision.decision.value
            item.reason = fit(reason, CampaignItem.reason)
            item.decided_by = fit(principal.actor, CampaignItem.decided_by)
            item.decided_at = now
            item.confirmed_gone_at = None
            item.confirmed_scan_id = None
            session.add(item)
    record(
        session,
        actor=principal.actor,
        action="campaign.decided",
        detail={
            "campaign_id": campaign_id,
            "decision": decision.decision.value,
            "items": result.items,
            "reason": reason[:200],
            **({"plan_id": result.plan_id} if result.plan_id is not None else {}),
            **({"reassigned_to": result.reassigned_to} if result.reassigned_to is not None else {}),
        },
    )
    session.flush()
    return result


def _check(
    session: Session, items: Sequence[CampaignItem], decision: Decision, reason: str
) -> None:
    for item in items:
        if item.removal_item_id is not None:
            removal = session.get(RemovalItem, item.removal_item_id)
            if removal is not None and removal.state in _COMMITTED:
                raise CampaignError(
                    f"item {item.id}: its removal is already {removal.state} in plan "
                    f"{removal.plan_id}; the decision stands"
                )
        if (
            decision.decision is CampaignDecision.KEEP
            and not reason
            and item.finding_class in REASON_REQUIRED
        ):
            label = FindingClass(item.finding_class).value.replace("_", " ")
            raise CampaignError(
                f"item {item.id} ({item.email or item.identity}, {label}): keeping it "
                "needs a reason"
            )
        if decision.decision is CampaignDecision.REMOVE and item.finding_id is None:
            raise CampaignError(f"item {item.id} has no finding to plan a removal from")


def _plan(
    session: Session, principal: Principal, campaign: Campaign, items: Sequence[CampaignItem]
) -> int | None:
    """Plan the removal of the items not already planned; link each item to its plan item."""
    todo = [i for i in items if i.removal_item_id is None and i.finding_id is not None]
    if not todo:
        return None
    try:
        plan = plan_removals(
            session,
            principal,
            PlanRequest(
                finding_ids=tuple(sorted({i.finding_id for i in todo if i.finding_id is not None})),
                note=f"access review {campaign.name}",
            ),
        )
    except RemovalError as exc:
        raise CampaignError(str(exc)) from exc
    assert plan.id is not None
    planned = {
        r.finding_id: r.id
        for r in session.exec(select(RemovalItem).where(col(RemovalItem.plan_id) == plan.id))
    }
    for item in todo:
        item.removal_item_id = planned.get(item.finding_id)
    return plan.id


def _reassign(session: Session, items: Sequence[CampaignItem], to: str | None) -> str:
    if to is not None and to.strip():
        try:
            target = find_staff_member(session, to.strip()).name
        except ValueError as exc:
            raise CampaignError(f"cannot hand the items to {to!r}: {exc}") from exc
        basis = ReviewerBasis.REASSIGNED
    else:
        targets = {next_up(session, item) for item in items}
        if len(targets) != 1:
            raise CampaignError(
                "these items go up to different people; say who should review them (--to NAME)"
            )
        up = targets.pop()
        if up is None:
            raise CampaignError(
                "there is no one above the practice admins: say who should review these "
                "items (--to NAME)"
            )
        target = up
        basis = ReviewerBasis.PARTNER if target else ReviewerBasis.PRACTICE_ADMIN
    for item in items:
        if normalise_person_name(item.reviewer) == normalise_person_name(target):
            raise CampaignError(f"item {item.id} is already {target or 'the admins'}'s to review")
        item.reviewer = fit(target, CampaignItem.reviewer)
        item.reviewer_basis = basis
        item.decision = ""
        item.reason = ""
        item.decided_by = ""
        item.decided_at = None
        item.removal_item_id = None
        session.add(item)
    return target or "the practice admins"


def next_up(session: Session, item: CampaignItem) -> str | None:
    """Who is above an item's reviewer: the client's partner, then the practice admins."""
    if not item.reviewer:
        return None
    client = session.get(Client, item.client_id) if item.client_id is not None else None
    partner = client.partner.strip() if client is not None else ""
    if partner and normalise_person_name(partner) != normalise_person_name(item.reviewer):
        return partner
    return ""
