"""Removals: the plans, one plan's items, and the forms that plan, approve and run them.

A plan is made from a person's page (everything of theirs the practice can remove,
the rest asked of the clients) or from ticked findings; it opens on its own page,
where a practice admin or partner who did not propose it approves it and someone
asks the agent's worker to run it. The server removes nothing itself. The plan page
draws everything on the server; ``static/removals.js`` then polls
``/dashboard/removals/{id}/live.json`` every two seconds while an item is approved,
running or removed (waiting for the scan that verifies it) and updates the states
in place. Every read and change goes through the viewer's scope, exactly as the
API's removal routes do (``agent.services.removals.scoped``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from agent.domain import RemovalState
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
from server.dashboard.web import (
    PREFIX,
    DashboardError,
    FormViewerDep,
    Viewer,
    ViewerDep,
    redirect,
    render,
)
from server.deps import RuntimeDep, SessionDep
from server.queries import get_staff
from server.schemas import MAX_ID

router = APIRouter()

#: states in which a plan's page keeps following its items live
LIVE_STATES = frozenset({RemovalState.APPROVED, RemovalState.RUNNING, RemovalState.REMOVED})
#: states a run picks up
RUNNABLE = frozenset({RemovalState.APPROVED, RemovalState.FAILED})
MAX_IDS = 1000

Ids = Annotated[list[str], Form()]


def _plan_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise DashboardError(404, "There is no such removal plan among your clients.")
    return value


def _ids(values: list[str], what: str) -> tuple[int, ...]:
    """Ticked ids from a form; anything else is the form's fault, said plainly."""
    ids: list[int] = []
    for value in values[:MAX_IDS]:
        if not value.strip().isdigit() or not 1 <= int(value) <= MAX_ID:
            raise DashboardError(400, f"{value[:40]!r} is not a {what} id.")
        ids.append(int(value))
    return tuple(ids)


def _refused(exc: RemovalError, *, forbidden: bool) -> DashboardError:
    status = 404 if isinstance(exc, NotInScope) else 403 if forbidden else 400
    message = str(exc)
    return DashboardError(status, message[:1].upper() + message[1:] + ".")


def _view(session: SessionDep, viewer: Viewer, plan_id: int) -> PlanView:
    view = plan_in_scope(session, viewer.scope, _plan_id(plan_id))
    if view is None:
        raise DashboardError(404, "There is no such removal plan among your clients.")
    return view


def _live(view: PlanView) -> bool:
    return any(view.plan.counts.get(state) for state in LIVE_STATES)


@router.get("/removals")
def plans_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    return render(request, "removals.html", viewer, plans=plans_in_scope(session, viewer.scope))


@router.get("/removals/{plan_id}/live.json")
def plan_live(plan_id: int, session: SessionDep, viewer: ViewerDep) -> JSONResponse:
    """The plan's items' states: what the plan page's script polls."""
    view = _view(session, viewer, plan_id)
    plan = session.get(RemovalPlan, view.plan.id)
    return JSONResponse(
        {
            "status": view.plan.status,
            "live": _live(view),
            "runnable": any(view.plan.counts.get(s) for s in RUNNABLE),
            "run_requested": plan is not None and plan.run_requested_at is not None,
            "counts": view.plan.counts,
            "items": [
                {
                    "id": i.id,
                    "state": i.state,
                    "detail": i.detail,
                    "attempts": i.attempts,
                }
                for i in view.items
            ],
        }
    )


@router.get("/removals/{plan_id}")
def plan_page(
    request: Request,
    plan_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    done: str = "",
) -> Response:
    view = _view(session, viewer, plan_id)
    plan = session.get(RemovalPlan, view.plan.id)
    assert plan is not None
    principal = viewer.principal
    proposer = plan.proposed_by_user_id == principal.user_id
    counts = view.plan.counts
    return render(
        request,
        "removal_plan.html",
        viewer,
        view=view,
        plan=plan,
        proposer=proposer,
        may_approve=principal.role in APPROVER_ROLES
        and (not proposer or runtime.settings.single_admin_self_approval),
        approver_role=principal.role in APPROVER_ROLES,
        may_run=principal.can_review and any(counts.get(s) for s in RUNNABLE),
        planned=counts.get(RemovalState.PLANNED, 0),
        live=_live(view),
        done=done if done in ("planned", "approved", "run") else "",
    )


@router.post("/removals")
def make_plan(
    session: SessionDep,
    viewer: FormViewerDep,
    finding_ids: Ids = [],  # noqa: B006
    staff_id: Annotated[str, Form(max_length=12)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A plan for a person (their page's button) or for the findings ticked on a list."""
    person: str | None = None
    if staff_id:
        staff = get_staff(session, _ids([staff_id], "staff")[0])
        if staff is None:
            raise DashboardError(404, "There is no staff member with that id.")
        person = staff.emails[0] if staff.emails else str(staff.id)
    request = PlanRequest(
        person=person,
        finding_ids=_ids(finding_ids, "finding"),
        note=note.replace("\x00", ""),
    )
    if person is None and not request.finding_ids:
        raise DashboardError(400, "Tick the findings to plan the removal of first.")
    try:
        plan = propose_in_scope(session, viewer.principal, viewer.scope, request)
    except RemovalError as exc:
        session.rollback()
        raise _refused(exc, forbidden=not viewer.principal.can_review) from None
    session.commit()
    return redirect(f"{PREFIX}/removals/{plan.id}?done=planned")


@router.post("/removals/{plan_id}/approve")
def approve(
    plan_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    viewer: FormViewerDep,
    item_ids: Ids = [],  # noqa: B006
) -> Response:
    principal = viewer.principal
    plan = session.get(RemovalPlan, _plan_id(plan_id))
    forbidden = principal.role not in APPROVER_ROLES or (
        plan is not None and plan.proposed_by_user_id == principal.user_id
    )
    try:
        approve_in_scope(
            session,
            principal,
            viewer.scope,
            plan_id,
            settings=runtime.settings,
            item_ids=_ids(item_ids, "plan item"),
        )
    except RemovalError as exc:
        session.rollback()
        raise _refused(exc, forbidden=forbidden) from None
    session.commit()
    return redirect(f"{PREFIX}/removals/{plan_id}?done=approved")


@router.post("/removals/{plan_id}/run")
def run(plan_id: int, session: SessionDep, viewer: FormViewerDep) -> Response:
    try:
        run_in_scope(session, viewer.principal, viewer.scope, _plan_id(plan_id))
    except RemovalError as exc:
        session.rollback()
        raise _refused(exc, forbidden=not viewer.principal.can_review) from None
    session.commit()
    return redirect(f"{PREFIX}/removals/{plan_id}?done=run")
