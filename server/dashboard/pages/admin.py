"""Practice admins' pages: crawl schedules per portal login, and pairing codes for users.

Schedules go through ``agent.crawl.scheduling`` (which audits ``schedule.set`` and
``schedule.remove``); a pairing code through ``agent.security.pairing.issue_pairing_code``
(audited as ``auth.pairing_code_issued``). The code is shown once, on the answer
to the form post, and is never stored in the clear.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from agent.crawl.scheduling import ScheduleError, list_schedules, remove_schedule, set_schedule
from agent.runtime import Runtime
from agent.security.logins import list_logins
from agent.security.pairing import CODE_TTL, format_code, issue_pairing_code
from agent.security.principal import AuthError
from agent.security.users import list_users
from agent.storage.models import PortalLogin
from server.actions import request_scan
from server.dashboard.web import (
    PREFIX,
    AdminDep,
    DashboardError,
    FormAdminDep,
    Viewer,
    redirect,
    render,
)
from server.deps import RuntimeDep, SessionDep
from server.schemas import MAX_ID

router = APIRouter()

#: How much of the ``done`` notice (a query string anyone can write) the page shows: a
#: display bound, not a column width.
DONE_SHOWN = 200


def _schedules_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    viewer: Viewer,
    *,
    status: int = 200,
    error: str = "",
    done: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    schedules = {s.login_id: s for s in list_schedules(runtime)}
    return render(
        request,
        "schedules.html",
        viewer,
        status_code=status,
        logins=list_logins(session),
        schedules=schedules,
        error=error,
        done=done,
        form=form or {},
    )


@router.get("/schedules")
def schedules_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, viewer: AdminDep, done: str = ""
) -> Response:
    return _schedules_page(request, session, runtime, viewer, done=done[:DONE_SHOWN])


def _login(session: Session, login_id: int) -> PortalLogin:
    login = session.get(PortalLogin, login_id) if 1 <= login_id <= MAX_ID else None
    if login is None:
        raise DashboardError(404, "There is no portal login with that id.")
    return login


@router.post("/schedules/{login_id}")
def save_schedule(
    request: Request,
    login_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    viewer: FormAdminDep,
    cron: Annotated[str, Form(max_length=100)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    _login(session, login_id)
    try:
        if "\x00" in cron or "\x00" in timezone:
            raise ScheduleError("text may not contain NUL characters")
        set_schedule(
            runtime,
            login_id,
            cron.strip(),
            timezone=timezone.strip() or "UTC",
            actor=viewer.principal.actor,
        )
    except ScheduleError as exc:
        return _schedules_page(
            request,
            session,
            runtime,
            viewer,
            status=422,
            error=str(exc),
            form={"login_id": str(login_id), "cron": cron, "timezone": timezone},
        )
    return redirect(f"{PREFIX}/schedules?done=schedule+saved")


@router.post("/schedules/{login_id}/remove")
def delete_schedule(
    request: Request, login_id: int, session: SessionDep, runtime: RuntimeDep, viewer: FormAdminDep
) -> Response:
    _login(session, login_id)
    try:
        remove_schedule(runtime, login_id, actor=viewer.principal.actor)
    except ScheduleError as exc:
        return _schedules_page(request, session, runtime, viewer, status=404, error=str(exc))
    return redirect(f"{PREFIX}/schedules?done=schedule+removed")


@router.post("/schedules/{login_id}/crawl")
def crawl_now(login_id: int, session: SessionDep, viewer: FormAdminDep) -> Response:
    """Queue a crawl of the whole login now, besides its schedule."""
    _login(session, login_id)
    request_scan(session, principal=viewer.principal, login_id=login_id, source="dashboard")
    session.commit()
    return redirect(f"{PREFIX}/scans")


@router.get("/users")
def users_page(request: Request, session: SessionDep, viewer: AdminDep) -> Response:
    return render(
        request,
        "users.html",
        viewer,
        users=list_users(session),
        issued=None,
        minutes=int(CODE_TTL.total_seconds() // 60),
    )


@router.post("/users/{user_id}/pairing-code")
def pairing_code(
    request: Request, user_id: int, session: SessionDep, viewer: FormAdminDep
) -> Response:
    try:
        if not 1 <= user_id <= MAX_ID:
            raise AuthError("no such user")
        issued = issue_pairing_code(
            session, user_id=user_id, actor=viewer.principal.actor, note="shown on the dashboard"
        )
    except AuthError:
        raise DashboardError(404, "There is no user with that id.") from None
    session.commit()
    return render(
        request,
        "users.html",
        viewer,
        users=list_users(session),
        issued={
            "code": format_code(issued.code),
            "user": issued.user_name,
            "expires_at": issued.expires_at,
        },
        minutes=int(CODE_TTL.total_seconds() // 60),
    )
