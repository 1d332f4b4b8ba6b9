"""The imitation MYOB Business: user cards that load as the list is scrolled.

Real MYOB shows each user or advisor as a card and fetches more from its own JSON
when the list is scrolled to its end; a scraper that reads the cards once sees only
the first 20, and one that asks the JSON for a big page gets at most 50. This app
renders the first cards on the server and lets a small script append the rest
(``textContent`` only, never markup from data). Contract: SPEC.md, ``myob``.

An administrator gets a ``Remove access for {name}`` button on every card but its
own and those of advisors the business owner added (which say so instead); the
button's dialog sends the removal to the JSON API (SPEC.md, Removing a user; the
judgement is ``sandbox.portals.removal``'s).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

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
    json_error,
    new_runtime,
    org_bar,
    parse_int,
    rename_keys,
)
from sandbox.portals.myob_script import USERS_JS
from sandbox.portals.removal import Refusal, RemovalRules
from sandbox.portals.signin import CodePage, PasswordPage, PasswordThenCode
from sandbox.world import World, WorldOrg, WorldUser

LOGIN_PATH = "/account/login"
MFA_PATH = "/account/mfa"
HOME_PATH = "/businesses"

SIGN_IN_REFUSED = "Incorrect email or password."
FIRST_CARDS = 20
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
INVITED = "INVITED"

#: who may open Users and permissions
ADMIN_USER_TYPE = "Online admin"
ADMIN_ROLE = "Administrator"

#: layout_version 2: the users JSON under new names
USERS_JSON_V2 = {
    "items": "results",
    "total": "count",
    "page": "pageNumber",
    "id": "memberId",
    "name": "displayName",
    "email": "emailAddress",
    "access": "accessType",
    "userType": "licenceType",
    "roles": "roleNames",
    "status": "state",
    "inviteExpiresAt": "invitationExpiresAt",
    "addedBy": "grantedBy",
}

LOOK = PortalLook(
    portal="myob",
    brand="MYOB · sandbox",
    accent="#6100a5",
    login_path=LOGIN_PATH,
    home_path=HOME_PATH,
    sign_in_paths=("/account",),
    extra_css=".user-card{border:1px solid #dde3ea;border-radius:6px;padding:.6rem 1rem;"
    "margin:.6rem 0}.user-card h3{margin:.2rem 0}.user-card p{margin:.2rem 0}"
    ".badge{display:inline-block;background:#fff3cd;padding:0 .5rem;border-radius:4px}"
    ".member-tiles{list-style:none;padding:0}.member-tile{border-bottom:1px solid #dde3ea;"
    "padding:.5rem 0}.member-tile dl{display:grid;grid-template-columns:8rem auto;margin:0}"
    "#load-more{height:1px}",
)


def display_name(user: WorldUser) -> str:
    return user.name or user.email


def access_of(user: WorldUser) -> str:
    return user.kind or "User"


def can_view_users(viewer: WorldUser) -> bool:
    return viewer.role == ADMIN_USER_TYPE or ADMIN_ROLE in viewer.myob_roles


#: who may remove users is who may view them (SPEC.md, Removing a user)
may_remove_users = can_view_users
OWNER_ADDED = "Added by the business owner"


def owner_added(user: WorldUser) -> bool:
    """An advisor the business owner added: only the owner can remove them."""
    return access_of(user) == "Advisor" and user.added_by_owner


def _protected(user: WorldUser) -> Refusal | None:
    return removal.OWNER_ONLY if owner_added(user) else None


REMOVAL_RULES = RemovalRules(may_remove=may_remove_users, protected=_protected)


def days_left(expires_at: str | None, now: float) -> int | None:
    """Whole days until an invitation expires, rounded up; ``None`` when unknown."""
    if not expires_at:
        return None
    try:
        moment = datetime.fromisoformat(expires_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, math.ceil((moment.timestamp() - now) / 86400))


def user_json(user: WorldUser) -> dict[str, Any]:
    """One user as MYOB's JSON names it (layout 1)."""
    return {
        "id": user.user_id,
        "name": user.name,
        "email": user.email,
        "access": access_of(user),
        "userType": user.role,
        "roles": list(user.myob_roles),
        "status": user.status,
        "inviteExpiresAt": user.invite_expires_at,
        "addedBy": "owner" if owner_added(user) else "user",
    }


def user_card(user: WorldUser, n: int, now: float, removal: str = "") -> str:
    """Layout 1: an ``article`` whose accessible name is the person's name.

    ``removal``: trusted markup closing the card (its remove button or owner-added line).
    """
    label_id = f"user-{n}-name"
    badge = ""
    if user.status == INVITED:
        badge = '<p class="badge">Invited</p>'
        days = days_left(user.invite_expires_at, now)
        if days is not None:
            badge += f'<p class="expires">Expires in {days} days</p>'
    return (
        f'<article class="user-card" data-user-id="{esc(user.user_id)}"'
        f' aria-labelledby="{label_id}"><h3 id="{label_id}">{esc(display_name(user))}</h3>'
        f"{badge}<p>Email: {esc(user.email)}</p><p>Access: {esc(access_of(user))}</p>"
        f"<p>User type: {esc(user.role)}</p><p>Roles: {esc(', '.join(user.myob_roles))}</p>"
        f"{removal}</article>"
    )


def card_removal(member: Membership, user: WorldUser) -> str:
    """What ends a card (SPEC.md, Removing a user): the owner-added line, or the remove
    button of a viewer who may remove (never on its own card)."""
    if owner_added(user):
        return f"<p>{OWNER_ADDED}</p>"
    if removal.offers_removal(REMOVAL_RULES, member.viewer, user):
        name = display_name(user)
        return (
            f'<button type="button" data-remove-id="{esc(user.user_id)}"'
            f' data-remove-name="{esc(name)}">Remove access for {esc(name)}</button>'
        )
    return ""


def member_tile(user: WorldUser, now: float, removal_markup: str = "") -> str:
    """Layout 2: the same person as a list item of term/definition pairs."""
    badge = ""
    if user.status == INVITED:
        badge = '<span class="tile-badge">Invited</span>'
        days = days_left(user.invite_expires_at, now)
        if days is not None:
            badge += f'<span class="tile-expiry"> Expires in {days} days</span>'
    pairs = (
        ("Email address", user.email),
        ("Access type", access_of(user)),
        ("Licence", user.role),
        ("Roles", ", ".join(user.myob_roles)),
    )
    terms = "".join(f"<dt>{term}</dt><dd>{esc(value)}</dd>" for term, value in pairs)
    return (
        f'<li class="member-tile" data-member-id="{esc(user.user_id)}">'
        f'<h3 class="tile-name">{esc(display_name(user))}</h3>{badge}<dl>{terms}</dl>'
        f"{removal_markup}</li>"
    )


SIGN_IN = PasswordPage(
    path=LOGIN_PATH,
    title="Sign in | MYOB",
    heading="Sign in to MYOB",
    email_label="Email",
    button="Sign in",
    refused=SIGN_IN_REFUSED,
)
MFA = CodePage(
    path=MFA_PATH,
    title="Verify | MYOB",
    heading="Verify it's you",
    label="Code from your authenticator app",
    button="Verify",
)


class MyobPages:
    """The routes of the imitation MYOB Business over one runtime."""

    def __init__(self, rt: PortalRuntime) -> None:
        self.rt = rt

    def routes(self) -> list[Route]:
        return [
            Route("/", self.root),
            *PasswordThenCode(self.rt, SIGN_IN, MFA).routes(),
            Route(HOME_PATH, self.businesses),
            Route("/business/{business_id}/users", self.users_page),
            Route("/api/businesses/{business_id}/users", self.users_json),
            Route(
                "/api/businesses/{business_id}/users/{user_id}",
                self.remove_user,
                methods=["DELETE"],
            ),
        ]

    async def root(self, request: Request) -> Response:
        return RedirectResponse(HOME_PATH, status_code=302)

    # -- business list

    async def businesses(self, request: Request) -> Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        members = self.rt.directory.memberships(session.login)
        if self.rt.variant:
            return self._businesses_variant(session.login.email, members)
        items = "".join(
            f'<li data-org-id="{esc(m.org.org_id)}">'
            f'<a href="/business/{esc(m.org.org_id)}/users">{esc(m.org.name)}</a>'
            + (
                f' <span class="serial">Serial number: {esc(m.org.serial_number)}</span>'
                if m.org.serial_number
                else ""
            )
            + "</li>"
            for m in members
        )
        listing = (
            f'<ul class="business-list">{items}</ul>'
            if members
            else "<p>You don't have any businesses yet.</p>"
        )
        body = (
            f'<main id="business-list"><h1>Businesses</h1>'
            f'<p class="muted">Signed in as {esc(session.login.email)}</p>{listing}</main>'
        )
        return self.rt.page("Businesses | MYOB", body)

    def _businesses_variant(self, email: str, members: list[Membership]) -> Response:
        """Another heading and title, the serial number before the link, other links."""
        items = "".join(
            f'<li data-org-id="{esc(m.org.org_id)}">'
            + (f"<small>{esc(m.org.serial_number)}</small> · " if m.org.serial_number else "")
            + f'<a href="/business/{esc(m.org.org_id)}/users">{esc(m.org.name)}</a></li>'
            for m in members
        )
        body = (
            '<nav aria-label="Account"><a href="/businesses">Refresh</a></nav>'
            f'<main id="business-list"><h1>Choose a business</h1>'
            f'<p class="muted">{esc(email)}</p><ol class="business-list">{items}</ol></main>'
        )
        return self.rt.page("MYOB Business", body)

    # -- one business

    def _member(self, request: Request) -> Membership | Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        member = self.rt.directory.membership(session.login, request.path_params["business_id"])
        if member is None:
            return self.rt.not_found(request)
        return member

    async def users_page(self, request: Request) -> Response:
        member = self._member(request)
        if isinstance(member, Response):
            return member
        org = member.org
        if not can_view_users(member.viewer):
            return self.rt.no_permission(request, org, org_bar(org))
        session = self.rt.session(request)
        head = (
            self.rt.csrf_meta(session)
            if may_remove_users(member.viewer) and session is not None
            else ""
        )
        title = (
            f"{org.name} · MYOB Business"
            if self.rt.variant
            else f"Users and permissions | {org.name} | MYOB"
        )
        return self.rt.page(title, self._users_body(member), head=head)

    def _users_body(self, member: Membership) -> str:
        org, viewer = member.org, member.viewer
        now = self.rt.now()
        v2 = self.rt.settings.layout_version == 2
        users = org.users  # one reading of the list, whatever removals happen meanwhile
        first = users[:FIRST_CARDS]
        if v2:
            inner = "".join(member_tile(u, now, card_removal(member, u)) for u in first)
            cards = f'<ul id="user-cards" class="member-tiles">{inner}</ul>'
        else:
            inner = "".join(
                user_card(u, n, now, card_removal(member, u)) for n, u in enumerate(first, start=1)
            )
            cards = f'<div id="user-cards" class="cards">{inner}</div>'
        total = len(users)
        more = total > len(first)
        alone = total == 1 and users[0] is viewer
        removing = (
            f' data-can-remove="1" data-viewer-id="{esc(viewer.user_id)}"'
            if may_remove_users(viewer)
            else ""
        )
        return (
            f"{org_bar(org)}"
            f'<main id="users-page" data-org-id="{esc(org.org_id)}"'
            f' data-users-url="/api/businesses/{esc(org.org_id)}/users"'
            f' data-login-url="{LOGIN_PATH}" data-layout="{2 if v2 else 1}"'
            f' data-total="{total}" data-shown="{len(first)}"'
            f' data-next-page="{2 if more else 0}" data-page-size="{DEFAULT_PAGE_SIZE}"'
            f' data-state="{"ready" if more else "complete"}"{removing}'
            f' data-business-name="{esc(org.name)}">'
            "<h2>Users and permissions</h2>"
            f'<p id="showing" aria-live="polite">Showing {len(first)} of {total}</p>'
            + ('<p class="empty" id="no-users">No users yet</p>' if alone else "")
            + cards
            + ('<div id="load-more"></div>' if more else "")
            + '<p id="load-status" role="status"></p>'
            f'<p><a href="{HOME_PATH}">All businesses</a></p></main>'
            f"<script>{USERS_JS}</script>"
        )

    async def users_json(self, request: Request) -> Response:
        member = self._member(request)
        if isinstance(member, Response):
            return member
        if not can_view_users(member.viewer):
            return self.rt.no_permission(request, member.org, "")
        page = parse_int(request.query_params.get("page"), 1)
        size = parse_int(request.query_params.get("pageSize"), DEFAULT_PAGE_SIZE)
        if page is None or size is None or page < 1 or size < 1:
            return json_error("bad_request", 400)
        payload: dict[str, Any] = users_payload(member.org, page, min(size, MAX_PAGE_SIZE))
        if self.rt.settings.layout_version == 2:
            payload = rename_keys(payload, USERS_JSON_V2)
        return JSONResponse(payload, headers={"Cache-Control": "no-store"})

    async def remove_user(self, request: Request) -> Response:
        """SPEC's removal: ``204`` with no body, or the refusal as JSON."""
        member = self._member(request)
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
        return Response(status_code=204, headers={"Cache-Control": "no-store"})


def users_payload(org: WorldOrg, page: int, size: int) -> dict[str, Any]:
    """One page of an org's users JSON in layout 1 (an empty page past the end)."""
    users = org.users
    start = (page - 1) * size
    items = [user_json(u) for u in users[start : start + size]]
    return {"items": items, "total": len(users), "page": page}


def create_app(world: World, settings: PortalSettings | None = None) -> Starlette:
    """The imitation MYOB Business over ``world``'s myob businesses and logins."""
    rt = new_runtime(world, LOOK, fold_org_ids=True)
    return build_app(rt, MyobPages(rt).routes(), settings or PortalSettings())
