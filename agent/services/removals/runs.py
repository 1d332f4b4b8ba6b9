"""Asking for a run from the API or the dashboard: the worker carries it out.

The server never drives a browser, so a run asked for there is a mark on the plan
(``run_requested_at``) that the worker picks up on its next poll; the run's progress
is the items' states, which every page reads. A run from the command line runs at
once in that process instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import RemovalState
from agent.security.audit import record
from agent.security.principal import REVIEWER_ROLES, Principal
from agent.services.removals.plans import RemovalError
from agent.storage.models import RemovalItem, RemovalPlan
from agent.storage.widths import fit

__all__ = ["finish_run_request", "plans_to_run", "request_run"]

_RUNNABLE = (RemovalState.APPROVED, RemovalState.FAILED)


def request_run(
    session: Session, principal: Principal, plan_id: int, *, at: datetime | None = None
) -> RemovalPlan:
    """Mark the plan for the worker; refused when nothing approved is waiting."""
    if principal.role not in REVIEWER_ROLES:
        raise RemovalError(f"{principal.name} may not start removals")
    plan = session.get(RemovalPlan, plan_id)
    if plan is None:
        raise RemovalError(f"no removal plan {plan_id}")
    waiting = session.exec(
        select(RemovalItem.id).where(
            RemovalItem.plan_id == plan_id, col(RemovalItem.state).in_(list(_RUNNABLE))
        )
    ).first()
    if waiting is None:
        raise RemovalError(f"plan {plan_id} has no approved item waiting to run")
    plan.run_requested_at = at or utcnow()
    plan.run_requested_by = fit(principal.actor, RemovalPlan.run_requested_by)
    session.add(plan)
    record(
        session, actor=principal.actor, action="removal.run_requested", detail={"plan_id": plan_id}
    )
    return plan


def plans_to_run(session: Session) -> list[int]:
    """Plans with a run asked for, oldest request first."""
    return [
        p
        for p in session.exec(
            select(RemovalPlan.id)
            .where(col(RemovalPlan.run_requested_at).is_not(None))
            .order_by(col(RemovalPlan.run_requested_at))
        )
        if p is not None
    ]


def finish_run_request(session: Session, plan_id: int) -> None:
    plan = session.get(RemovalPlan, plan_id)
    if plan is not None:
        plan.run_requested_at = None
        session.add(plan)
