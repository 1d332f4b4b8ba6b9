"""Removals: plan (a dry run), approve (a second person), ask the worker to run them.

The server never removes anything itself: approving marks items for the worker, and
a run asked for here is a mark on the plan the worker picks up
(``agent.services.removals.runs``). Everything is read and changed through the
caller's client scope (``agent.services.removals.scoped``): a plan shows only its
items on the caller's clients, and a plan with none answers 404 like one that does
not exist. A refused action answers with the service's own sentence: 403 when the
caller's role (or four eyes) forbids it, 404 for what they cannot see, 400 for a
request that names nothing to do.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlmodel import Session

from agent.security.principal import Principal
from agent.security.scope import Scope
from agent.services.removals.approval import APPROVER_ROLES
from agent.services.removals.plans import PlanRequest, RemovalError
from agent.services.removals.scoped import (
    NotInScope,
    approve_in_scope,
    plan_in_scope,
    plans_in_scope,
    propose_in_scope,
    run_in_scope,
)
from agent.services.removals.views import PlanView
from agent.storage.models import RemovalPlan
from server.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep
from server.schemas import (
    ApprovalOut,
    ApproveIn,
    IdPath,
    Problem,
    RemovalPlanIn,
    RemovalPlanOut,
    RemovalPlanViewOut,
    RunRequestOut,
    approval_out,
    plan_view_out,
)

router = APIRouter(tags=["removals"])

REFUSALS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem, "description": "nothing to do: the message says why"},
    403: {"model": Problem, "description": "your role, or four eyes, does not allow it"},
    404: {"model": Problem, "description": "no such plan, item or finding among your clients"},
}


def refusal(exc: RemovalError, *, forbidden: bool) -> HTTPException:
    """The HTTP answer to a refused removal action, with the service's sentence."""
    if isinstance(exc, NotInScope):
        code = status.HTTP_404_NOT_FOUND
    elif forbidden:
        code = status.HTTP_403_FORBIDDEN
    else:
        code = status.HTTP_400_BAD_REQUEST
    return HTTPException(code, str(exc))


def _may_approve(session: Session, principal: Principal, plan_id: int) -> bool:
    plan = session.get(RemovalPlan, plan_id)
    return principal.role in APPROVER_ROLES and (
        plan is None or plan.proposed_by_user_id != principal.user_id
    )


def _view(session: Session, scope: Scope, plan_id: int) -> PlanView:
    view = plan_in_scope(session, scope, plan_id)
    if view is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no removal plan {plan_id} among your clients"
        )
    return view


@router.get("/removals/plans")
def get_plans(session: SessionDep, scope: ScopeDep, _user: CurrentUser) -> list[RemovalPlanOut]:
    """Removal plans with items on your clients, newest first, counted over those items."""
    return [
        RemovalPlanOut.model_validate(p, from_attributes=True)
        for p in plans_in_scope(session, scope)
    ]


@router.get("/removals/plans/{plan_id}", responses={404: REFUSALS[404]})
def get_plan(
    plan_id: IdPath, session: SessionDep, scope: ScopeDep, _user: CurrentUser
) -> RemovalPlanViewOut:
    """A plan's items on your clients: org, user, role, who can remove it and why, the
    proposal, what stands in its way, and where each stands."""
    return plan_view_out(_view(session, scope, plan_id))


@router.post(
    "/removals/plans",
    status_code=status.HTTP_201_CREATED,
    responses=REFUSALS,
)
def post_plan(
    body: RemovalPlanIn, session: SessionDep, scope: ScopeDep, principal: CurrentUser
) -> RemovalPlanViewOut:
    """Plan removals: a dry run, nothing is changed in any portal.

    Name exactly one of a person (a leaver, by name or email), finding ids, or a finding
    class (with ``manager``: only that client manager's clients). Practice admins,
    partners and managers propose, for their own clients; a practice admin or partner
    other than the proposer approves.
    """
    request = PlanRequest(
        person=body.person,
        finding_ids=tuple(body.finding_ids),
        finding_class=body.finding_class,
        manager=body.manager,
        note=body.note,
    )
    try:
        plan = propose_in_scope(session, principal, scope, request)
    except RemovalError as exc:
        session.rollback()
        raise refusal(exc, forbidden=not principal.can_review) from None
    session.commit()
    assert plan.id is not None
    return plan_view_out(_view(session, scope, plan.id))


@router.post("/removals/plans/{plan_id}/approve", responses=REFUSALS)
def post_approval(
    plan_id: IdPath,
    body: ApproveIn,
    session: SessionDep,
    scope: ScopeDep,
    principal: CurrentUser,
    runtime: RuntimeDep,
) -> ApprovalOut:
    """Approve a plan's planned items (or only ``item_ids``): four eyes, a practice admin
    or partner who did not propose it. Items the practice removes wait for a run; items
    only the client can remove become requests to the client. Approving twice changes
    nothing the second time."""
    forbidden = not _may_approve(session, principal, plan_id)
    try:
        approval = approve_in_scope(
            session,
            principal,
            scope,
            plan_id,
            settings=runtime.settings,
            item_ids=tuple(body.item_ids),
        )
    except RemovalError as exc:
        session.rollback()
        raise refusal(exc, forbidden=forbidden) from None
    session.commit()
    return approval_out(approval, _view(session, scope, plan_id))


@router.post(
    "/removals/plans/{plan_id}/run",
    status_code=status.HTTP_202_ACCEPTED,
    responses=REFUSALS,
)
def post_run(
    plan_id: IdPath, session: SessionDep, scope: ScopeDep, principal: CurrentUser
) -> RunRequestOut:
    """Ask the agent's worker to carry out the plan's approved items through the portals.

    Accepted, not done: follow the items' states on ``GET /removals/plans/{id}``. A later
    ok scan that no longer shows an access makes it verified."""
    try:
        plan = run_in_scope(session, principal, scope, plan_id)
    except RemovalError as exc:
        session.rollback()
        raise refusal(exc, forbidden=not principal.can_review) from None
    session.commit()
    assert plan.run_requested_at is not None
    return RunRequestOut(
        plan_id=plan_id,
        run_requested_at=plan.run_requested_at,
        run_requested_by=plan.run_requested_by,
        detail="the agent's worker carries out the approved items on its next poll",
    )
