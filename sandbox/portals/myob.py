"""The imitation MYOB Business: user cards that load as the list is scrolled.

Real MYOB shows each user or advisor as a card and fetches more from its own JSON
when the list is scrolled to its end; a scraper that reads the cards once sees only
the first 20, and one that asks the JSON for a big page gets at most 50. This app
renders the first cards on the server and lets a small script append the rest
(``textContent`` only, never markup from data). Contract: SPEC.md, ``myob``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

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

USERS_JS = r"""
(function () {
  "use strict";
  var main = document.getElementById("users-page");
  var box = document.getElementById("user-cards");
  var showing = document.getElementById("showing");
  var note = document.getElementById("load-status");
  var sentinel = document.getElementById("load-more");
  var v2 = main.dataset.layout === "2";
  // markup_variant: a viewer who may remove users gets a Remove button on each card
  // but its own and those of advisors the business owner added
  var removing = main.dataset.canRemove === "1";
  var viewerId = main.dataset.viewerId;
  var OWNER_ADDED = "Added by the business owner";
  var total = Number(main.dataset.total);
  var shown = Number(main.dataset.shown);
  var nextPage = Number(main.dataset.nextPage);
  var pageSize = Number(main.dataset.pageSize);
  var busy = false;
  var observer = null;
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function daysLeft(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) { return null; }
    return Math.max(0, Math.ceil((t - Date.now()) / 86400000));
  }
  function card(u, n) {
    var a = el("article", null, "user-card"), id = "user-" + n + "-name";
    a.dataset.userId = u.id;
    a.setAttribute("aria-labelledby", id);
    var h = el("h3", u.name || u.email); h.id = id; a.appendChild(h);
    if (u.status === "INVITED") {
      a.appendChild(el("p", "Invited", "badge"));
      var d = daysLeft(u.inviteExpiresAt);
      if (d !== null) { a.appendChild(el("p", "Expires in " + d + " days", "expires")); }
    }
    a.appendChild(el("p", "Email: " + u.email));
    a.appendChild(el("p", "Access: " + u.access));
    a.appendChild(el("p", "User type: " + u.userType));
    a.appendChild(el("p", "Roles: " + (u.roles || []).join(", ")));
    if (u.addedBy === "owner") {
      a.appendChild(el("p", OWNER_ADDED));
    } else if (removing && u.id !== viewerId) {
      var b = el("button", "Remove access for " + (u.name || u.email)); b.type = "button";
      a.appendChild(b);
    }
    return a;
  }
  function tile(m) {
    var li = el("li", null, "member-tile"), dl = el("dl");
    li.dataset.memberId = m.memberId;
    li.appendChild(el("h3", m.displayName || m.emailAddress, "tile-name"));
    if (m.state === "INVITED") {
      li.appendChild(el("span", "Invited", "tile-badge"));
      var d = daysLeft(m.invitationExpiresAt);
      if (d !== null) { li.appendChild(el("span", " Expires in " + d + " days", "tile-expiry")); }
    }
    [["Email address", m.emailAddress], ["Access type", m.accessType],
      ["Licence", m.licenceType], ["Roles", (m.roleNames || []).join(", ")]].forEach(function (p) {
      dl.appendChild(el("dt", p[0])); dl.appendChild(el("dd", p[1]));
    });
    li.appendChild(dl);
    return li;
  }
  function near() {
    return !!sentinel && sentinel.getBoundingClientRect().top <= window.innerHeight + 100;
  }
  function finish() {
    if (sentinel) { sentinel.remove(); sentinel = null; }
    if (observer) { observer.disconnect(); }
    window.removeEventListener("scroll", onScroll);
    main.dataset.state = "complete";
  }
  function failed() {
    busy = false;
    main.dataset.state = "failed";
    note.textContent = "We couldn't load more users. Scroll down to try again.";
  }
  function load() {
    if (busy || !nextPage) { return; }
    busy = true;
    main.dataset.state = "loading";
    var url = main.dataset.usersUrl + "?page=" + nextPage + "&pageSize=" + pageSize;
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) {
          location.assign(main.dataset.loginUrl + "?next=" +
            encodeURIComponent(location.pathname + location.search));
          return null;
        }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        if (!data) { return; }
        var items = v2 ? data.results : data.items;
        var count = v2 ? data.count : data.total;
        if (!Array.isArray(items) || typeof count !== "number") { throw new Error("unexpected"); }
        items.forEach(function (u) {
          shown += 1;
          box.appendChild(v2 ? tile(u) : card(u, shown));
        });
        total = count;
        nextPage = items.length && shown < total ? nextPage + 1 : 0;
        showing.textContent = "Showing " + shown + " of " + total;
        note.textContent = "";
        busy = false;
        if (!nextPage) { finish(); return; }
        main.dataset.state = "ready";
        if (near()) { load(); }
      })
      .catch(failed);
  }
  function onScroll() { if (near()) { load(); } }
  if (!nextPage) { return; }
  if ("IntersectionObserver" in window) {
    observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { load(); }
    });
    observer.observe(sentinel);
  }
  window.addEventListener("scroll", onScroll, {passive: true});
  if (near()) { load(); }
})();
"""


def display_name(user: WorldUser) -> str:
    return user.name or user.email


def access_of(user: WorldUser) -> str:
    return user.kind or "User"


def can_view_users(viewer: WorldUser) -> bool:
    return viewer.role == ADMIN_USER_TYPE or ADMIN_ROLE in viewer.myob_roles


#: who may remove users is who may view them (SPEC.md, Removing a user)
may_remove_users = can_view_users
OWNER_ADDED = "Added by the business owner"


def owner_added(org: WorldOrg) -> set[str]:
    """The user ids of the advisors the business owner added, whom only the owner removes.

    The world does not say who added an advisor; ``markup_variant`` takes every second
    advisor of the org, in the org's order, so that both kinds are on show.
    """
    advisors = [u.user_id for u in org.users if access_of(u) == "Advisor"]
    return set(advisors[1::2])


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
    }


def user_card(user: WorldUser, n: int, now: float, removal: str = "") -> str:
    """Layout 1: an ``article`` whose accessible name is the person's name.

    ``removal``: trusted markup closing the card (``markup_variant``'s remove button or
    owner-added line).
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


def card_removal(member: Membership, user: WorldUser, owners: set[str]) -> str:
    """What ends a card in ``markup_variant`` (SPEC.md, Removing a user): the owner-added
    line, or the remove button of a viewer who may remove (never on its own card)."""
    if user.user_id in owners:
        return f"<p>{OWNER_ADDED}</p>"
    if may_remove_users(member.viewer) and user is not member.viewer:
        return f'<button type="button">Remove access for {esc(display_name(user))}</button>'
    return ""


def member_tile(user: WorldUser, now: float) -> str:
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
        f'<h3 class="tile-name">{esc(display_name(user))}</h3>{badge}<dl>{terms}</dl></li>'
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
        if self.rt.variant:
            session = self.rt.session(request)
            head = (
                self.rt.csrf_meta(session)
                if may_remove_users(member.viewer) and session is not None
                else ""
            )
            return self.rt.page(f"{org.name} · MYOB Business", self._users_body(member), head=head)
        return self.rt.page(f"Users and permissions | {org.name} | MYOB", self._users_body(member))

    def _users_body(self, member: Membership) -> str:
        org, viewer = member.org, member.viewer
        now = self.rt.now()
        v2 = self.rt.settings.layout_version == 2
        first = org.users[:FIRST_CARDS]
        variant = self.rt.variant
        owners = owner_added(org) if variant else set()
        if v2:
            inner = "".join(member_tile(u, now) for u in first)
            cards = f'<ul id="user-cards" class="member-tiles">{inner}</ul>'
        else:
            inner = "".join(
                user_card(u, n, now, card_removal(member, u, owners) if variant else "")
                for n, u in enumerate(first, start=1)
            )
            cards = f'<div id="user-cards" class="cards">{inner}</div>'
        total = len(org.users)
        more = total > len(first)
        alone = total == 1 and org.users[0] is viewer
        removing = (
            f' data-can-remove="1" data-viewer-id="{esc(viewer.user_id)}"'
            if variant and may_remove_users(viewer)
            else ""
        )
        return (
            f"{org_bar(org)}"
            f'<main id="users-page" data-org-id="{esc(org.org_id)}"'
            f' data-users-url="/api/businesses/{esc(org.org_id)}/users"'
            f' data-login-url="{LOGIN_PATH}" data-layout="{2 if v2 else 1}"'
            f' data-total="{total}" data-shown="{len(first)}"'
            f' data-next-page="{2 if more else 0}" data-page-size="{DEFAULT_PAGE_SIZE}"'
            f' data-state="{"ready" if more else "complete"}"{removing}>'
            "<h2>Users and permissions</h2>"
            f'<p id="showing" aria-live="polite">Showing {len(first)} of {total}</p>'
            + ('<p class="empty">No users yet</p>' if alone else "")
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
        if self.rt.variant:
            owners = owner_added(member.org)
            for item in payload["items"]:
                item["addedBy"] = "owner" if item["id"] in owners else "user"
        if self.rt.settings.layout_version == 2:
            payload = rename_keys(payload, USERS_JSON_V2)
        return JSONResponse(payload, headers={"Cache-Control": "no-store"})


def users_payload(org: WorldOrg, page: int, size: int) -> dict[str, Any]:
    """One page of an org's users JSON in layout 1 (an empty page past the end)."""
    start = (page - 1) * size
    items = [user_json(u) for u in org.users[start : start + size]]
    return {"items": items, "total": len(org.users), "page": page}


def create_app(world: World, settings: PortalSettings | None = None) -> Starlette:
    """The imitation MYOB Business over ``world``'s myob businesses and logins."""
    rt = new_runtime(world, LOOK, fold_org_ids=True)
    return build_app(rt, MyobPages(rt).routes(), settings or PortalSettings())
