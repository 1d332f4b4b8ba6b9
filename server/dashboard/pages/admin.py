"""The Users page: the people who sign in, their tokens and pairing codes (admins only).

Users are added and tokens revoked through the services the command line uses
(``agent.security.users.add_user``, ``agent.security.tokens.revoke_token``), which
audit ``auth.user_added`` and ``auth.token_revoked``; a pairing code through
``agent.security.pairing.issue_pairing_code`` (audited as
``auth.pairing_code_issued``). The code is shown once, on the answer to the form
post, and is never stored in the clear.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from agent.imports import PracticeRole
from agent.security.pairing import CODE_TTL, format_code, issue_pairing_code
from agent.security.principal import AuthError, ClientScope
from agent.security.tokens import list_tokens, revoke_token
from agent.security.users import add_user, list_users
from agent.storage.models import Client, Staff
from server.dashboard.web import (
    DONE_SHOWN,
    PREFIX,
    AdminDep,
    DashboardError,
    FormAdminDep,
    Viewer,
    redirect,
    render,
)
from server.deps import SessionDep
from server.schemas import MAX_ID

router = APIRouter()

SCOPES: dict[str, str] = {
    ClientScope.ALL: "All clients",
    ClientScope.MANAGED: "Clients they manage",
    ClientScope.SELECTED: "Selected clients",
}


def _users_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    status: int = 200,
    issued: dict[str, Any] | None = None,
    error: str = "",
    done: str = "",
    form: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        viewer,
        status_code=status,
        users=list_users(session),
        tokens=[t for t in list_tokens(session) if t.revoked_at is None],
        roles=list(PracticeRole),
        scopes=SCOPES,
        clients=list(session.exec(select(Client).order_by(col(Client.name)))),
        staff=list(session.exec(select(Staff).order_by(col(Staff.name)))),
        issued=issued,
        minutes=int(CODE_TTL.total_seconds() // 60),
        error=error,
        done=done,
        form=form or {},
    )


@router.get("/users")
def users_page(request: Request, session: SessionDep, viewer: AdminDep, done: str = "") -> Response:
    return _users_page(request, session, viewer, done=done[:DONE_SHOWN])


@router.post("/users")
def add_a_user(
    request: Request,
    session: SessionDep,
    viewer: FormAdminDep,
    name: Annotated[str, Form(max_length=500)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    scope: Annotated[str, Form(max_length=32)] = "",
    client_ids: Annotated[list[str], Form()] = [],  # noqa: B006
    staff_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """A new user, as ``accessrecon users add`` makes one; then show them a pairing code."""
    form = {
        "name": name,
        "role": role,
        "scope": scope,
        "client_ids": client_ids,
        "staff_id": staff_id,
    }
    try:
        if "\x00" in name:
            raise AuthError("a name may not contain NUL characters")
        if role not in set(PracticeRole):
            raise AuthError("choose the user's role")
        if scope not in SCOPES:
            raise AuthError("choose which clients the user may see")
        ids = [int(v) for v in client_ids[:10_000] if v.isascii() and v.strip().isdigit()]
        if len(ids) != len(client_ids):
            raise AuthError("the chosen clients are not all clients of the list")
        if staff_id and not (staff_id.isascii() and staff_id.strip().isdigit()):
            raise AuthError(f"{staff_id[:20]!r} is not a staff member of the roster")
        user = add_user(
            session,
            name=name,
            role=role,
            scope=scope,
            client_ids=ids,
            staff=int(staff_id) if staff_id else None,
            actor=viewer.principal.actor,
        )
    except AuthError as exc:
        session.rollback()
        message = str(exc)
        return _users_page(
            request,
            session,
            viewer,
            status=422,
            error=f"{message[:1].upper()}{message[1:]}; nobody was added.",
            form=form,
        )
    session.commit()
    done = f"{user.name} was added: show them a pairing code to sign in"
    return redirect(f"{PREFIX}/users?{urlencode({'done': done})}")


@router.post("/users/tokens/{token_id}/revoke")
def revoke_a_token(
    request: Request, token_id: int, session: SessionDep, viewer: FormAdminDep
) -> Response:
    """End a token at once: the extension or sign-in holding it is refused from now on."""
    try:
        if not 1 <= token_id <= MAX_ID:
            raise AuthError(f"no token with id {token_id}")
        token = revoke_token(session, token_id, actor=viewer.principal.actor)
    except AuthError:
        raise DashboardError(404, "There is no token with that id.") from None
    session.commit()
    if token.id == viewer.principal.token_id:
        return redirect(f"{PREFIX}/login")
    done = f"{token.user_name}'s token {token.id} ({token.label or 'no label'}) was revoked"
    return redirect(f"{PREFIX}/users?{urlencode({'done': done})}")


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
    return _users_page(
        request,
        session,
        viewer,
        issued={
            "code": format_code(issued.code),
            "user": issued.user_name,
            "expires_at": issued.expires_at,
        },
    )
