"""The imitation Xero: a single-page app that renders its lists from its own JSON.

Real Xero draws the org list and the Users table in the browser, a moment after the
page itself arrives; a scraper that reads the DOM too early sees no rows, and one
that reads the JSON must cope with what the JSON says. This app copies that: pages
carry only a shell and a script, the script fetches ``/api/...`` and builds the
table with ``textContent`` (never markup from data). Contract: SPEC.md, ``xero``.

A viewer who may manage users gets a ``Remove {name}`` button on every row but its
own and the subscriber's; the button's dialog posts the removal to the JSON API
(SPEC.md, Removing a user; the judgement is ``sandbox.portals.removal``'s).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.portals import removal
from sandbox.portals.common import (
    Membership,
    PortalLook,
    PortalRuntime,
    PortalSettings,
    build_app,
    esc,
    new_runtime,
    org_bar,
    rename_keys,
)
from sandbox.portals.removal import Refusal, RemovalRules
from sandbox.portals.signin import CodePage, PasswordPage, PasswordThenCode
from sandbox.portals.xero_script import ORGS_JS, USERS_JS
from sandbox.world import World, WorldOrg, WorldUser

LOGIN_PATH = "/identity/user/login"
TWO_STEP_PATH = "/identity/user/login/two-step"
HOME_PATH = "/myxero"

SIGN_IN_REFUSED = "Your email or password is incorrect"

ROLE_LABELS = {
    "FINANCIALADVISER": "Adviser",
    "STANDARD": "Standard",
    "READONLY": "Read only",
    "INVOICEONLY": "Invoice only",
    "MANAGEDCLIENT": "Managed client",
    "CASHBOOKCLIENT": "Cashbook client",
}
PERMISSION_LABELS = {
    "MANAGE_USERS": "Manage users",
    "PAYROLL_ADMIN": "Payroll admin",
    "BANK_ACCOUNT_ADMIN": "Bank account admin",
}
#: roles whose holders may open Settings → Users
USER_VIEWING_ROLES = frozenset({"STANDARD", "FINANCIALADVISER"})

#: layout_version 2: the users JSON under new names (org list JSON keeps its names)
USERS_JSON_V2 = {
    "total": "count",
    "users": "members",
    "userId": "id",
    "firstName": "givenName",
    "lastName": "familyName",
    "email": "emailAddress",
    "role": "organisationRole",
    "extraPermissions": "permissions",
    "status": "state",
    "twoStep": "mfaEnabled",
    "lastLoginUtc": "lastSeenAt",
    "loginsThisWeek": "weeklyLogins",
    "isSubscriber": "subscriber",
}

LOOK = PortalLook(
    portal="xero",
    brand="Xero · sandbox",
    accent="#13b5ea",
    login_path=LOGIN_PATH,
    home_path=HOME_PATH,
    sign_in_paths=("/identity",),
    extra_css=".team-list{list-style:none;padding:0}"
    ".team-member{border-bottom:1px solid #dde3ea;padding:.5rem 0}",
)


def can_view_users(viewer: WorldUser) -> bool:
    return viewer.role in USER_VIEWING_ROLES


def may_remove_users(viewer: WorldUser) -> bool:
    """Whether the viewer is offered removal (SPEC.md, Removing a user): Manage users on
    a role that can open Users at all."""
    return can_view_users(viewer) and "MANAGE_USERS" in viewer.extra_permissions


def _protected(user: WorldUser) -> Refusal | None:
    return removal.SUBSCRIBER if user.is_subscriber else None


REMOVAL_RULES = RemovalRules(may_remove=may_remove_users, protected=_protected)


def user_json(user: WorldUser) -> dict[str, Any]:
    """One user as the Users API names it (layout 1)."""
    return {
        "userId": user.user_id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "role": user.role,
        "extraPermissions": list(user.extra_permissions),
        "status": user.status,
        "twoStep": user.two_step,
        "lastLoginUtc": user.last_login_utc,
        "loginsThisWeek": user.logins_this_week,
        "isSubscriber": user.is_subscriber,
    }


def _path_code(short_code: str) -> str:
    return quote(short_code, safe="!")


SIGN_IN = PasswordPage(
    path=LOGIN_PATH,
    title="Log in | Xero",
    heading="Log in to Xero",
    email_label="Email address",
    button="Log in",
    refused=SIGN_IN_REFUSED,
)
TWO_STEP = CodePage(
    path=TWO_STEP_PATH,
    title="Two-step authentication | Xero",
    heading="Two-step authentication",
    label="Authentication code",
    button="Confirm",
    intro="<p>Enter the code shown in your authenticator app.</p>",
)


class XeroPages:
    """The routes of the imitation Xero over one runtime."""

    def __init__(self, rt: PortalRuntime) -> None:
        self.rt = rt

    def routes(self) -> list[Route]:
        return [
            Route("/", self.root),
            *PasswordThenCode(self.rt, SIGN_IN, TWO_STEP).routes(),
            Route(HOME_PATH, self.org_list),
            Route("/api/myxero/orgs", self.org_list_json),
            Route("/app/{short_code}/homepage", self.homepage),
            Route("/app/{short_code}/settings/users", self.users_page),
            Route("/api/orgs/{short_code}/users", self.users_json),
            Route(
                "/api/orgs/{short_code}/users/{user_id}/remove",
                self.remove_user,
                methods=["POST"],
            ),
        ]

    # -- sign-in

    async def root(self, request: Request) -> Response:
        return RedirectResponse(HOME_PATH, status_code=302)

    # -- org list

    async def org_list(self, request: Request) -> Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        body = (
            f'<main id="org-list" data-orgs-url="/api/myxero/orgs" data-login-url="{LOGIN_PATH}"'
            ' data-state="loading">'
            f"<h1>{'Organisations' if self.rt.variant else 'My Xero'}</h1>"
            f'<p class="muted">Signed in as {esc(session.login.email)}</p>'
            '<div id="orgs-root" aria-busy="true"><p class="muted">Loading organisations…</p>'
            "</div></main>"
            f"<script>{ORGS_JS}</script>"
        )
        return self.rt.page("Xero | Organisations" if self.rt.variant else "My Xero", body)

    async def org_list_json(self, request: Request) -> Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        orgs = [
            {
                "shortCode": m.org.org_id,
                "name": m.org.name,
                "role": m.viewer.role,
                "isSubscriber": m.viewer.is_subscriber,
            }
            for m in self.rt.directory.memberships(session.login)
        ]
        return JSONResponse({"orgs": orgs}, headers={"Cache-Control": "no-store"})

    # -- one org

    def _member(self, request: Request, short_code: str) -> Membership | Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        member = self.rt.directory.membership(session.login, short_code)
        if member is None:
            return self.rt.not_found(request)
        return member

    async def homepage(self, request: Request) -> Response:
        member = self._member(request, request.path_params["short_code"])
        if isinstance(member, Response):
            return member
        org = member.org
        code = _path_code(org.org_id)
        body = (
            f"{org_bar(org)}"
            f'<main data-org-id="{esc(org.org_id)}"><h2>Dashboard</h2>'
            f'<nav aria-label="Settings"><a href="/app/{esc(code)}/settings/users">Users</a>'
            f' · <a href="{HOME_PATH}">My Xero</a></nav></main>'
        )
        return self.rt.page(f"{org.name} | Xero", body)

    async def users_page(self, request: Request) -> Response:
        member = self._member(request, request.path_params["short_code"])
        if isinstance(member, Response):
            return member
        org = member.org
        if not can_view_users(member.viewer):
            return self.rt.no_permission(request, org, org_bar(org))
        code = _path_code(org.org_id)
        variant = self.rt.variant
        removing = may_remove_users(member.viewer)
        extra = (
            f' data-can-remove="1" data-viewer-id="{esc(member.viewer.user_id)}"'
            if removing
            else ""
        )
        session = self.rt.session(request)
        head = self.rt.csrf_meta(session) if removing and session is not None else ""
        body = (
            f"{org_bar(org)}"
            f'<main id="users-page" data-org-id="{esc(org.org_id)}"'
            f' data-users-url="/api/orgs/{esc(code)}/users" data-login-url="{LOGIN_PATH}"'
            f' data-layout="{self.rt.settings.layout_version}" data-state="loading"{extra}'
            f' data-org-name="{esc(org.name)}">'
            f'<nav class="muted"><a href="{HOME_PATH}">My Xero</a> › '
            f'<a href="/app/{esc(code)}/homepage">{esc(org.name)}</a> › Settings</nav>'
            "<h2>Users</h2>"
            '<p id="removal-notice" role="status"></p>'
            '<p id="user-count" aria-live="polite"></p>'
            '<div id="users-root" aria-busy="true"><p class="muted">Loading users…</p></div>'
            f"</main><script>{USERS_JS}</script>"
        )
        if variant:
            return self.rt.page(f"{org.name} – user settings", body, head=head)
        return self.rt.page(f"Users | {org.name} | Xero", body, head=head)

    async def users_json(self, request: Request) -> Response:
        member = self._member(request, request.path_params["short_code"])
        if isinstance(member, Response):
            return member
        if not can_view_users(member.viewer):
            return self.rt.no_permission(request, member.org, "")
        payload: dict[str, Any] = users_payload(member.org)
        if self.rt.settings.layout_version == 2:
            payload = rename_keys(payload, USERS_JSON_V2)
        return JSONResponse(payload, headers={"Cache-Control": "no-store"})

    async def remove_user(self, request: Request) -> Response:
        """SPEC's removal: ``200 {"removed": userId}``, or the refusal as JSON."""
        member = self._member(request, request.path_params["short_code"])
        if isinstance(member, Response):
            return member
        session = self.rt.session(request)
        if session is None:  # pragma: no cover - _member answered already
            return self.rt.unauthenticated(request)
        outcome = removal.remove(
            self.rt,
            session,
            member.org.org_id,
            request.path_params["user_id"],
            REMOVAL_RULES,
            removal.token_of(request),
        )
        if isinstance(outcome, Refusal):
            return removal.refuse(self.rt, request, outcome, member.org)
        return JSONResponse({"removed": outcome.user_id}, headers={"Cache-Control": "no-store"})


def users_payload(org: WorldOrg) -> dict[str, Any]:
    """The users JSON of one org in layout 1."""
    return {"total": len(org.users), "users": [user_json(u) for u in org.users]}


def create_app(world: World, settings: PortalSettings | None = None) -> Starlette:
    """The imitation Xero over ``world``'s xero orgs and logins."""
    rt = new_runtime(world, LOOK)
    return build_app(rt, XeroPages(rt).routes(), settings or PortalSettings())
