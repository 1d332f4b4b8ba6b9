"""Plans as one user may see them: only their items on clients in the user's scope.

A plan reaches across clients (a leaver's plan covers every org they were in), so a
manager sees the part of each plan that lies on their own clients, with its counts
and status taken from that part alone. A plan with nothing on their clients is not
theirs to see: like an org outside one's scope, it reads as unknown. A user who sees
every client sees every plan whole. The API and the dashboard both read plans here,
so the two never show one person different parts of a plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from sqlmodel import Session, col, select

from agent.security.principal import Principal
from agent.security.scope import Scope
from agent.services.removals.approval import Approval, approve_plan
from agent.services.removals.plans import PlanRequest, RemovalError, plan_removals
from agent.services.removals.runs import request_run
from agent.services.removals.views import PlanSummary, PlanView, list_plans, plan_view
from agent.settings import Settings
from agent.storage.links import join_client
from agent.storage.models import Client, Finding, Org, RemovalItem, RemovalPlan

__all__ = [
    "NotInScope",
    "approve_in_scope",
    "plan_in_scope",
    "plans_in_scope",
    "propose_in_scope",
    "run_in_scope",
    "visible_items",
]


class NotInScope(RemovalError):
    """A plan, item or finding the user cannot see: answered as if it did not exist."""


def visible_items(session: Session, scope: Scope, plan_ids: Sequence[int]) -> dict[int, set[int]]:
    """The ids of each plan's items on clients in ``scope``: plan id to item ids."""
    visible: dict[int, set[int]] = {plan_id: set() for plan_id in plan_ids}
    if not plan_ids:
        return visible
    rows = session.exec(
        join_client(
            select(RemovalItem.plan_id, RemovalItem.id, Client.id)
            .select_from(RemovalItem)
            .join(Org, col(Org.id) == col(RemovalItem.org_id))
            .where(col(RemovalItem.plan_id).in_(list(plan_ids)))
        )
    )
    for plan_id, item_id, client_id in rows:
        if item_id is not None and scope.allows(client_id):
            visible[plan_id].add(item_id)
    return visible


def plans_in_scope(session: Session, scope: Scope, *, limit: int = 100) -> list[PlanSummary]:
    """The newest plans with an item in ``scope``, each counted over those items only."""
    plans = list_plans(session, limit=limit)
    if scope.everything:
        return plans
    visible = visible_items(session, scope, [p.id for p in plans])
    states = _states(session, {i for ids in visible.values() for i in ids})
    shown: list[PlanSummary] = []
    for plan in plans:
        ids = visible[plan.id]
        if ids:
            shown.append(replace(plan, counts=dict(Counter(states[i] for i in ids))))
    return shown


def plan_in_scope(session: Session, scope: Scope, plan_id: int) -> PlanView | None:
    """The plan with only its items in ``scope``; ``None`` when it has none (or no such plan)."""
    view = plan_view(session, plan_id)
    if view is None or scope.everything:
        return view
    ids = visible_items(session, scope, [plan_id])[plan_id]
    items = [item for item in view.items if item.id in ids]
    if not items:
        return None
    counts = dict(Counter(item.state for item in items))
    return PlanView(replace(view.plan, counts=counts), items)


def _states(session: Session, item_ids: set[int]) -> dict[int, str]:
    if not item_ids:
        return {}
    return {
        item_id: state
        for item_id, state in session.exec(
            select(RemovalItem.id, RemovalItem.state).where(col(RemovalItem.id).in_(item_ids))
        )
        if item_id is not None
    }


def propose_in_scope(
    session: Session, principal: Principal, scope: Scope, request: PlanRequest
) -> RemovalPlan:
    """``plan_removals``, with finding ids outside ``scope`` refused as unknown ones are
    (to someone who may propose at all: ``plan_removals`` refuses the others)."""
    if request.finding_ids and principal.can_review:
        missing = _findings_outside(session, scope, request.finding_ids)
        if missing:
            raise NotInScope(
                "no finding " + ", ".join(str(i) for i in missing) + " among your clients"
            )
    return plan_removals(session, principal, request)


def approve_in_scope(
    session: Session,
    principal: Principal,
    scope: Scope,
    plan_id: int,
    *,
    settings: Settings,
    item_ids: Sequence[int] = (),
) -> Approval:
    """``approve_plan`` over the part of the plan ``scope`` sees: approving a plan without
    naming items approves what the approver can see of it, never items they cannot."""
    visible = _visible_or_refuse(session, scope, plan_id)
    if item_ids:
        unseen = [i for i in dict.fromkeys(item_ids) if i not in visible]
        if unseen:
            raise NotInScope(
                f"plan {plan_id} has no item "
                + ", ".join(str(i) for i in unseen)
                + " among your clients"
            )
    elif not scope.everything:
        item_ids = sorted(visible)
    return approve_plan(session, principal, plan_id, settings=settings, item_ids=item_ids)


def run_in_scope(session: Session, principal: Principal, scope: Scope, plan_id: int) -> RemovalPlan:
    """``request_run`` for a plan with something in ``scope``."""
    _visible_or_refuse(session, scope, plan_id)
    return request_run(session, principal, plan_id)


def _visible_or_refuse(session: Session, scope: Scope, plan_id: int) -> set[int]:
    """The plan's item ids in ``scope``; a plan with none reads as no plan at all."""
    visible = visible_items(session, scope, [plan_id])[plan_id]
    if not visible:
        raise NotInScope(f"no removal plan {plan_id} among your clients")
    return visible


def _findings_outside(session: Session, scope: Scope, finding_ids: Sequence[int]) -> list[int]:
    """The ids naming no finding on a client in ``scope`` (unknown ones included)."""
    wanted = list(dict.fromkeys(finding_ids))
    rows = session.exec(
        join_client(
            select(Finding.id, Client.id)
            .select_from(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
            .where(col(Finding.id).in_(wanted))
        )
    )
    seen = {finding_id for finding_id, client_id in rows if scope.allows(client_id)}
    return [i for i in wanted if i not in seen]
