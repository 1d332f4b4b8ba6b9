"""Plans as people read them: the command line, the API and the dashboard show these.

One shape for a plan's items (``ItemRow``: the item with its org and client), so
the three places never disagree on what an item says.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from agent.domain import RemovalState
from agent.storage.links import join_client
from agent.storage.models import Client, Org, RemovalItem, RemovalPlan

__all__ = ["ItemRow", "PlanSummary", "PlanView", "list_plans", "plan_view"]


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    plan_id: int
    finding_id: int | None
    portal: str
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    email: str
    name: str
    role: str
    finding_class: str
    removable_by: str
    removable_reason: str
    action: str
    barrier: str
    state: str
    detail: str
    attempts: int
    approved_by: str
    approved_at: datetime | None
    removed_at: datetime | None
    verified_at: datetime | None
    verified_scan_id: int | None


@dataclass(frozen=True, slots=True)
class PlanSummary:
    id: int
    created_at: datetime
    proposed_by: str
    scope: str
    note: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def status(self) -> str:
        """One word for the whole plan, from its items' states."""
        c = self.counts
        if c.get(RemovalState.RUNNING):
            return "running"
        if c.get(RemovalState.PLANNED):
            return "awaiting approval"
        if c.get(RemovalState.APPROVED) or c.get(RemovalState.FAILED):
            return "approved, to run"
        if c.get(RemovalState.REMOVED):
            return "awaiting verification"
        if c.get(RemovalState.REQUESTED):
            return "waiting on clients"
        return "done"


@dataclass(frozen=True, slots=True)
class PlanView:
    plan: PlanSummary
    items: list[ItemRow]


def list_plans(session: Session, *, limit: int = 100) -> list[PlanSummary]:
    plans = list(
        session.exec(select(RemovalPlan).order_by(col(RemovalPlan.id).desc()).limit(limit))
    )
    counts: dict[int, Counter[str]] = {p.id or 0: Counter() for p in plans}
    if plans:
        for plan_id, state in session.exec(
            select(RemovalItem.plan_id, RemovalItem.state).where(
                col(RemovalItem.plan_id).in_(list(counts))
            )
        ):
            counts[plan_id][state] += 1
    return [_summary(p, counts[p.id or 0]) for p in plans]


def plan_view(session: Session, plan_id: int) -> PlanView | None:
    plan = session.get(RemovalPlan, plan_id)
    if plan is None:
        return None
    rows = session.exec(
        join_client(
            select(RemovalItem, Org, Client)
            .join(Org, col(Org.id) == col(RemovalItem.org_id))
            .where(RemovalItem.plan_id == plan_id)
        ).order_by(col(RemovalItem.id))
    ).all()
    items = [_row(item, org, client) for item, org, client in rows]
    return PlanView(_summary(plan, Counter(i.state for i in items)), items)


def _summary(plan: RemovalPlan, counts: Counter[str]) -> PlanSummary:
    return PlanSummary(
        id=plan.id or 0,
        created_at=plan.created_at,
        proposed_by=plan.proposed_by,
        scope=plan.scope,
        note=plan.note,
        counts=dict(counts),
    )


def _row(item: RemovalItem, org: Org, client: Client | None) -> ItemRow:
    return ItemRow(
        id=item.id or 0,
        plan_id=item.plan_id,
        finding_id=item.finding_id,
        portal=org.portal,
        portal_org_id=org.portal_org_id,
        org_name=org.name,
        client=client.name if client else None,
        client_manager=client.client_manager if client else None,
        email=item.email,
        name=item.name,
        role=item.role,
        finding_class=item.finding_class,
        removable_by=item.removable_by,
        removable_reason=item.removable_reason,
        action=item.action,
        barrier=item.barrier,
        state=item.state,
        detail=item.detail,
        attempts=item.attempts,
        approved_by=item.approved_by,
        approved_at=item.approved_at,
        removed_at=item.removed_at,
        verified_at=item.verified_at,
        verified_scan_id=item.verified_scan_id,
    )
