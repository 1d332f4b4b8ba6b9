"""Signing in with a pairing code, and signing out."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from agent.security.pairing import CLIENT_LENGTH
from server.dashboard.sessions import principal_for, sign_in, sign_out
from server.dashboard.web import (
    PREFIX,
    FormViewerDep,
    cookie_name,
    redirect,
    render,
    safe_next,
)
from server.deps import ServerSettingsDep, SessionDep

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/login")
def login_page(
    request: Request, session: SessionDep, next: str = "", signed_out: bool = False
) -> Response:
    session_id = request.cookies.get(cookie_name(request), "")
    if session_id and principal_for(session, session_id) is not None:
        return redirect(safe_next(next))
    return render(
        request, "login.html", None, next=safe_next(next), error="", signed_out=signed_out
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: ServerSettingsDep,
    code: Annotated[str, Form(max_length=32)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    origin = request.headers.get("origin", "")[:CLIENT_LENGTH]
    signed = sign_in(
        session,
        code,
        client=f"dashboard {origin}",
        lifetime=timedelta(hours=settings.dashboard_session_hours),
    )
    session.commit()  # a failed attempt counts against the live codes: keep it
    if signed is None:
        log.info("dashboard sign-in refused")
        page: HTMLResponse = render(
            request,
            "login.html",
            None,
            status_code=401,
            next=safe_next(next),
            signed_out=False,
            error="That code is wrong, expired or used up. Ask for a new one "
            "(accessrecon pair --user NAME).",
        )
        return page
    response = redirect(safe_next(next))
    response.set_cookie(
        cookie_name(request),
        signed.session_id,
        max_age=settings.dashboard_session_hours * 3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, viewer: FormViewerDep) -> Response:
    sign_out(session, viewer.session_id, viewer.principal)
    session.commit()
    response = redirect(f"{PREFIX}/login?signed_out=true")
    response.delete_cookie(cookie_name(request), path=PREFIX, httponly=True, samesite="strict")
    return response
