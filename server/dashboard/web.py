"""What every dashboard page needs: who is looking, their scope, the form check, rendering.

``ViewerDep`` is the only way a page learns who is looking: it reads the session
cookie (``server.dashboard.sessions``) and resolves the viewer's client scope for
this request, exactly as ``server.deps`` does for a bearer token, so every read a
page makes goes through the same ``Scope``. Without a live session a page redirects
to the sign-in page. ``FormViewerDep`` adds the CSRF check every state-changing
form passes (the request guard has already checked its ``Origin``); ``AdminDep``
and ``ReviewerDep`` add the role checks the API makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette import types as asgi

from agent.security.principal import Principal
from agent.security.scope import Scope, resolve_scope
from server.dashboard.rendering import make_environment
from server.dashboard.sessions import csrf_matches, csrf_token, principal_for
from server.deps import SessionDep

PREFIX = "/dashboard"
COOKIE = "accessrecon_dashboard"

_environment = make_environment()


#: How much of a ``done`` notice (a query string anyone can write) a page shows: a
#: display bound, not a column width.
DONE_SHOWN = 200


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in page, the JSON feed answers 401."""


class DashboardError(Exception):
    """A page that cannot be shown, with the status and the sentence the person reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    scope: Scope
    session_id: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_id)


def cookie_name(request: Request) -> str:
    """The cookie's name carries the port: cookies ignore ports, servers on two ports must not."""
    port: int = request.app.state.dashboard_port
    return f"{COOKIE}_{port}"


def get_viewer(request: Request, session: SessionDep) -> Viewer:
    session_id = request.cookies.get(cookie_name(request), "")
    principal = principal_for(session, session_id) if session_id else None
    if principal is None:
        raise SignInRequired
    request.state.actor = principal.actor
    viewer = Viewer(principal, resolve_scope(session, principal), session_id)
    request.state.viewer = viewer  # for the error page's navigation
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def get_form_viewer(viewer: ViewerDep, csrf: Annotated[str, Form(max_length=200)] = "") -> Viewer:
    if not csrf or not csrf_matches(viewer.session_id, csrf):
        raise DashboardError(
            403,
            "This form has expired or did not come from the dashboard. "
            "Reload the page and try again.",
        )
    return viewer


FormViewerDep = Annotated[Viewer, Depends(get_form_viewer)]


def get_admin(viewer: ViewerDep) -> Viewer:
    if not viewer.principal.is_admin:
        raise DashboardError(403, "Only a practice admin may open this page.")
    return viewer


def get_form_admin(viewer: FormViewerDep) -> Viewer:
    return get_admin(viewer)


def get_form_reviewer(viewer: FormViewerDep) -> Viewer:
    if not viewer.principal.can_review:
        raise DashboardError(
            403, "Only practice admins, partners and managers record review decisions."
        )
    return viewer


AdminDep = Annotated[Viewer, Depends(get_admin)]
FormAdminDep = Annotated[Viewer, Depends(get_form_admin)]
FormReviewerDep = Annotated[Viewer, Depends(get_form_reviewer)]


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page from ``template`` with the layout's context (viewer, CSRF token, where we are)."""
    page = _environment.get_template(template).render(
        viewer=viewer,
        csrf=viewer.csrf if viewer else "",
        prefix=PREFIX,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def redirect(path: str) -> RedirectResponse:
    """After a form post, the page to show (303: the browser follows with a GET)."""
    return RedirectResponse(path, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path only, never another site."""
    if value and value.startswith(PREFIX) and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX


async def sign_in_required(request: Request, _exc: Exception) -> Response:
    if request.url.path.endswith(".json"):
        return JSONResponse({"detail": "sign in to the dashboard first"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return (
        redirect(f"{PREFIX}/login?next={quote(target, safe='')}")
        if request.method == "GET"
        else redirect(f"{PREFIX}/login")
    )


async def dashboard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DashboardError)
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    return render(request, "error.html", viewer, status_code=exc.status, message=exc.message)


class DashboardHome:
    """``/dashboard/``, the address people type and the demo prints, is the overview itself.

    The overview's route is ``/dashboard``; left to the router, ``/dashboard/`` would be
    redirected there and then to the sign-in page, a chain of two. Rewritten here (an
    ASGI middleware), it answers in one hop as ``/dashboard`` does: the page, or one
    redirect to sign in.
    """

    def __init__(self, app: asgi.ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] == "http" and scope["path"] == f"{PREFIX}/":
            scope = {**scope, "path": PREFIX, "raw_path": PREFIX.encode()}
        await self.app(scope, receive, send)
