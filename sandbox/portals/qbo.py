"""The imitation QuickBooks Online: server-rendered pages, paginated, two tabs.

Real QBO signs in identifier-first (the email on one page, the password on the
next), lists a practice's clients 50 to a page, and splits a company's users into
**Users** and **Accounting firms** tabs of 25 rows. A scraper has to walk every page
of both tabs and trust the ``{a}-{b} of {N}`` text, not the first page's rows. There
is no JSON here: everything is in the HTML. Contract: SPEC.md, ``qbo``.

A viewer who may remove users on a tab sees its table gain an ``Action`` column of
``Delete {name}`` / ``Remove {name}`` links to the delete pages of
``sandbox.portals.qbo_removal`` (SPEC.md, Removing a user).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.portals import removal
from sandbox.portals.common import (
    Membership,
    PasswordCheck,
    PortalLook,
    PortalRuntime,
    PortalSettings,
    build_app,
    esc,
    new_runtime,
    org_bar,
    page_range,
    parse_int,
    read_form,
    sign_in_form,
)
from sandbox.portals.qbo_removal import DONE_PARAM, QboRemovalPages, action_link, done_notice
from sandbox.portals.removal import Refusal, RemovalRules
from sandbox.portals.signin import CodePage, CodeStep
from sandbox.world import World, WorldUser

LOGIN_PATH = "/signin"
PASSWORD_PATH = "/signin/password"  # noqa: S105
VERIFY_PATH = "/signin/verify"
HOME_PATH = "/clients"

SIGN_IN_REFUSED = "Incorrect password. Try again or reset it."
NO_IDENTIFIER = "Enter your email or user ID"
USERS_PAGE_SIZE = 25
CLIENTS_PAGE_SIZE = 50

USERS_TAB = "users"
FIRMS_TAB = "firms"
EMPTY_TEXT = {USERS_TAB: "No users to show", FIRMS_TAB: "No accounting firms"}
FIRM_USER_TYPE = "Accountant"
#: user types whose holders may open Manage users
USER_VIEWING_TYPES = frozenset({"Primary admin", "Company admin", FIRM_USER_TYPE})

LOOK = PortalLook(
    portal="qbo",
    brand="QuickBooks · sandbox",
    accent="#2ca01c",
    login_path=LOGIN_PATH,
    home_path=HOME_PATH,
    sign_in_paths=(LOGIN_PATH,),
    extra_css=".tabs a{margin-right:1rem}.tabs a[aria-current]{font-weight:700}"
    ".qbo-people{list-style:none;padding:0}.person{padding:.4rem 0;border-bottom:1px solid #dde3ea}"
    ".person span{margin-right:1rem}",
)


def tab_of(user: WorldUser) -> str:
    return FIRMS_TAB if user.kind == FIRMS_TAB else USERS_TAB


def user_type(user: WorldUser) -> str:
    return FIRM_USER_TYPE if tab_of(user) == FIRMS_TAB else user.role


def can_view_users(viewer: WorldUser) -> bool:
    return user_type(viewer) in USER_VIEWING_TYPES


def _pager(base: str, params: dict[str, str], page: int, has_next: bool, between: str = "") -> str:
    """``Previous`` and ``Next`` links; ``between``, trusted text, on the same line."""
    links = []
    if page > 1:
        query = urlencode({**params, "page": str(page - 1)})
        links.append(f'<a href="{esc(base + "?" + query)}" rel="prev">Previous</a>')
    if between:
        links.append(f"<span>{between}</span>")
    if has_next:
        query = urlencode({**params, "page": str(page + 1)})
        links.append(f'<a href="{esc(base + "?" + query)}" rel="next">Next</a>')
    if not links:
        return ""
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>'


#: every column a users table can have: its header, by the field it shows
COLUMN_HEADERS = {
    "firm": "Firm",
    "name": "Name",
    "email": "Email",
    "type": "User type",
    "status": "Status",
    "action": "Action",
}
#: each tab's columns in order (SPEC.md); a viewer who may remove there also gets
#: ``action``, last
COLUMNS = {
    USERS_TAB: ("name", "email", "type", "status"),
    FIRMS_TAB: ("firm", "name", "email", "status"),
}
#: ``markup_variant``: another order, with the ``Action`` column of a viewer who may
#: remove users there
VARIANT_COLUMNS = {
    USERS_TAB: ("email", "status", "name", "action", "type"),
    FIRMS_TAB: ("name", "status", "action", "email", "firm"),
}
#: the client list's columns, by header; the variant's come in another order, with a
#: column of links to the same Manage users page
CLIENT_COLUMNS = ("Client", "Status")
VARIANT_CLIENT_COLUMNS = ("Status", "Client", "Go to")

PRIMARY_ADMIN = "Primary admin"
#: user types whose holders may remove others from the Users tab (SPEC.md)
USER_REMOVING_TYPES = frozenset({PRIMARY_ADMIN, "Company admin"})


def may_remove_on(viewer: WorldUser, tab: str) -> bool:
    """Whether the viewer is offered removal on ``tab`` (SPEC.md, Removing a user)."""
    if tab == USERS_TAB:
        return user_type(viewer) in USER_REMOVING_TYPES
    return user_type(viewer) == PRIMARY_ADMIN or tab_of(viewer) == FIRMS_TAB


def may_remove_anyone(viewer: WorldUser) -> bool:
    return may_remove_on(viewer, USERS_TAB) or may_remove_on(viewer, FIRMS_TAB)


def reaches(viewer: WorldUser, user: WorldUser) -> bool:
    """Whether ``user``'s entry is within the viewer's rights: its tab's, and on the firms
    tab, unless the viewer is the primary admin, only the entries of the viewer's firm."""
    tab = tab_of(user)
    if not may_remove_on(viewer, tab):
        return False
    if tab == FIRMS_TAB and user_type(viewer) != PRIMARY_ADMIN:
        return (user.firm_name or "") == (viewer.firm_name or "")
    return True


def _protected(user: WorldUser) -> Refusal | None:
    return removal.PRIMARY_ADMIN if user_type(user) == PRIMARY_ADMIN else None


REMOVAL_RULES = RemovalRules(may_remove=may_remove_anyone, reaches=reaches, protected=_protected)


def removable(viewer: WorldUser, user: WorldUser) -> bool:
    """Whether ``user``'s row offers the viewer a remove link (never self or the primary
    admin)."""
    return removal.offers_removal(REMOVAL_RULES, viewer, user)


def _fields(user: WorldUser) -> dict[str, str]:
    return {
        "firm": user.firm_name or "",
        "name": user.name,
        "email": user.email,
        "type": user_type(user),
        "status": user.status,
    }


def _cells(user: WorldUser, tab: str) -> list[tuple[str, str]]:
    """A row's ``(field, text)`` pairs, in the tab's column order."""
    fields = _fields(user)
    return [(field, fields[field]) for field in COLUMNS[tab]]


def users_table(
    users: list[WorldUser],
    tab: str,
    columns: tuple[str, ...] | None = None,
    *,
    action: Callable[[WorldUser], str] | None = None,
    empty_text: str | None = None,
) -> str:
    """Layout 1: one table per tab, in ``columns`` order (SPEC's by default).

    ``action`` gives the trusted markup of a row's ``Action`` cell; ``empty_text``,
    when there are no rows, is said in a row spanning the table.
    """
    columns = columns or COLUMNS[tab]
    head = "".join(f'<th scope="col">{COLUMN_HEADERS[c]}</th>' for c in columns)

    def cell(user: WorldUser, field: str) -> str:
        if field == "action":
            return f"<td>{action(user) if action else ''}</td>"
        return f"<td>{esc(_fields(user)[field])}</td>"

    rows = "".join(
        f'<tr data-user-id="{esc(u.user_id)}">' + "".join(cell(u, c) for c in columns) + "</tr>"
        for u in users
    )
    if not users and empty_text:
        rows = f'<tr><td colspan="{len(columns)}">{esc(empty_text)}</td></tr>'
    return (
        f'<table class="users-table" data-tab="{tab}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def people_list(
    users: list[WorldUser], tab: str, action: Callable[[WorldUser], str] | None = None
) -> str:
    """Layout 2: the same rows as a list of people, under new class names; ``action``
    gives the trusted markup ending an item (its remove link)."""
    items = "".join(
        f'<li class="person" data-person-id="{esc(u.user_id)}">'
        + "".join(
            f'<span class="person__{field}">{esc(text)}</span>' for field, text in _cells(u, tab)
        )
        + (action(u) if action else "")
        + "</li>"
        for u in users
    )
    return f'<ul class="qbo-people" data-list="{tab}">{items}</ul>'


VERIFY = CodePage(
    path=VERIFY_PATH,
    title="Verify | Intuit",
    heading="Check your authenticator app",
    label="Verification code",
    button="Continue",
    intro="<p>Enter the 6-digit code from your authenticator app.</p>",
)


class QboPages:
    """The routes of the imitation QuickBooks Online over one runtime."""

    def __init__(self, rt: PortalRuntime) -> None:
        self.rt = rt

    def routes(self) -> list[Route]:
        return [
            Route("/", self.root),
            Route(LOGIN_PATH, self.identifier_form, methods=["GET"]),
            Route(LOGIN_PATH, self.identifier_submit, methods=["POST"]),
            Route(PASSWORD_PATH, self.password_form, methods=["GET"]),
            Route(PASSWORD_PATH, self.password_submit, methods=["POST"]),
            *CodeStep(self.rt, VERIFY, restart_path=LOGIN_PATH).routes(),
            Route(HOME_PATH, self.clients),
            Route("/app/company/{realm_id}/manageusers", self.manage_users),
            *QboRemovalPages(self.rt, REMOVAL_RULES, tab_of).routes(),
        ]

    async def root(self, request: Request) -> Response:
        return RedirectResponse(HOME_PATH, status_code=302)

    # -- sign-in: identifier, password, verification code

    def _identifier_page(
        self, next_url: str | None, *, identifier: str = "", error: str | None = None
    ) -> Response:
        body = sign_in_form(
            action=LOGIN_PATH,
            heading="Sign in",
            intro="<p>One account for everything Intuit.</p>",
            fields=[("identifier", "Email or user ID", "text", identifier)],
            button="Continue",
            error=error,
            next_url=next_url,
        )
        return self.rt.page("Sign in | Intuit", body)

    async def identifier_form(self, request: Request) -> Response:
        return self._identifier_page(self.rt.safe_next(request.query_params.get("next"), request))

    async def identifier_submit(self, request: Request) -> Response:
        form = await read_form(request)
        raw_next = form.get("next") or request.query_params.get("next")
        next_url = self.rt.safe_next(raw_next, request)
        identifier = form.get("identifier", "").strip()
        if not identifier:
            return self._identifier_page(next_url, error=NO_IDENTIFIER)
        response = RedirectResponse(PASSWORD_PATH, status_code=303)
        self.rt.begin_sign_in(request, response, next_url=next_url, identifier=identifier)
        return response

    def _password_page(self, identifier: str, error: str | None = None) -> Response:
        body = sign_in_form(
            action=PASSWORD_PATH,
            heading="Enter your password",
            intro=(
                f'<p>Signing in as <strong class="identifier">{esc(identifier)}</strong> · '
                f'<a href="{LOGIN_PATH}">Use a different account</a></p>'
            ),
            fields=[("password", "Password", "password", "")],
            button="Sign in",
            error=error,
        )
        return self.rt.page("Sign in | Intuit", body)

    async def password_form(self, request: Request) -> Response:
        pending = self.rt.pending(request)
        if pending is None or pending.identifier is None:
            return RedirectResponse(LOGIN_PATH, status_code=302)
        return self._password_page(pending.identifier)

    async def password_submit(self, request: Request) -> Response:
        pending = self.rt.pending(request)
        if pending is None or pending.identifier is None:
            return RedirectResponse(LOGIN_PATH, status_code=303)
        form = await read_form(request)
        outcome, login = self.rt.check_password(pending.identifier, form.get("password", ""))
        if outcome is PasswordCheck.LOCKED:
            return self.rt.locked()
        if outcome is PasswordCheck.WRONG or login is None:
            return self._password_page(pending.identifier, SIGN_IN_REFUSED)
        pending.login = login
        return RedirectResponse(VERIFY_PATH, status_code=303)

    # -- client list

    async def clients(self, request: Request) -> Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        members = self.rt.directory.memberships(session.login)
        page = parse_int(request.query_params.get("page"), 1)
        bounds = page_range(len(members), page, CLIENTS_PAGE_SIZE) if page is not None else None
        if page is None or bounds is None:
            return self.rt.not_found(request)
        start, end = bounds
        variant = self.rt.variant
        columns = VARIANT_CLIENT_COLUMNS if variant else CLIENT_COLUMNS

        def cell(member: Membership, column: str) -> str:
            users = f"/app/company/{esc(member.org.org_id)}/manageusers"
            if column == "Client":
                return f'<td><a href="{users}">{esc(member.org.name)}</a></td>'
            if column == "Status":
                return f"<td>{esc(member.viewer.status)}</td>"
            return f'<td><a href="{users}">Manage users</a></td>'

        rows = "".join(
            f'<tr data-org-id="{esc(m.org.org_id)}">'
            + "".join(cell(m, c) for c in columns)
            + "</tr>"
            for m in members[start:end]
        )
        head = "".join(f'<th scope="col">{c}</th>' for c in columns)
        listing = (
            f'<table class="client-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
        if not members:
            listing += "<p>You have no clients yet.</p>" if variant else "<p>No clients to show</p>"
        elif not variant:
            listing += f'<p class="range">{start + 1}-{end} of {len(members)}</p>'
        listing += _pager(HOME_PATH, {}, page, end < len(members))
        heading = "Your clients" if variant else "Clients"
        body = (
            f'<main id="client-list"><h1>{heading}</h1>'
            f'<p class="muted">Signed in as {esc(session.login.email)}</p>{listing}</main>'
        )
        return self.rt.page(
            "QuickBooks Online Accountant" if variant else "Clients | QuickBooks", body
        )

    # -- manage users

    async def manage_users(self, request: Request) -> Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        member = self.rt.directory.membership(session.login, request.path_params["realm_id"])
        if member is None:
            return self.rt.not_found(request)
        org = member.org
        variant = self.rt.variant
        if not can_view_users(member.viewer):
            return self.rt.no_permission(request, org, "" if variant else org_bar(org))
        tab = request.query_params.get("tab") or USERS_TAB
        page = parse_int(request.query_params.get("page"), 1)
        if tab not in EMPTY_TEXT or page is None:
            return self.rt.not_found(request)
        users = [u for u in org.users if tab_of(u) == tab]
        bounds = page_range(len(users), page, USERS_PAGE_SIZE)
        if bounds is None:
            return self.rt.not_found(request)
        notice = done_notice(self.rt, org, tab, request.query_params.get(DONE_PARAM))
        body = self._manage_users_body(member, tab, page, users, bounds, notice)
        head = self.rt.csrf_meta(session) if may_remove_on(member.viewer, tab) else ""
        title = (
            "Manage users · QuickBooks" if variant else f"Manage users | {org.name} | QuickBooks"
        )
        return self.rt.page(title, body, head=head)

    def _manage_users_body(
        self,
        member: Membership,
        tab: str,
        page: int,
        users: list[WorldUser],
        bounds: tuple[int, int],
        notice: str = "",
    ) -> str:
        org, viewer = member.org, member.viewer
        variant = self.rt.variant
        removing = may_remove_on(viewer, tab)

        def action(user: WorldUser) -> str:
            return action_link(org, user, tab) if removable(viewer, user) else ""

        base = f"/app/company/{org.org_id}/manageusers"
        tabs = "".join(
            f'<a href="{esc(base + "?" + urlencode({"tab": name}))}"'
            + (' aria-current="page"' if name == tab else "")
            + f">{text}</a>"
            for name, text in ((USERS_TAB, "Users"), (FIRMS_TAB, "Accounting firms"))
        )
        start, end = bounds
        shown = users[start:end]
        range_text = f"{start + 1}-{end} of {len(users)}"
        has_next = end < len(users)
        if self.rt.settings.layout_version == 2:
            listing = (
                f"{people_list(shown, tab, action if removing else None)}"
                f'<p class="range">{range_text}</p>' + _pager(base, {"tab": tab}, page, has_next)
                if users
                else f'<p class="empty">{EMPTY_TEXT[tab]}</p>'
            )
        elif variant:
            # another column order, the Action column of a viewer who may remove, the
            # range beside the pager's links, the empty text inside the table
            columns = tuple(c for c in VARIANT_COLUMNS[tab] if c != "action" or removing)
            table = users_table(shown, tab, columns, empty_text=EMPTY_TEXT[tab], action=action)
            listing = table + (
                _pager(base, {"tab": tab}, page, has_next, range_text) if users else ""
            )
        elif users:
            columns = COLUMNS[tab] + (("action",) if removing else ())
            table = users_table(shown, tab, columns, action=action)
            listing = f'{table}<p class="range">{range_text}</p>' + _pager(
                base, {"tab": tab}, page, has_next
            )
        else:
            listing = f'<p class="empty">{EMPTY_TEXT[tab]}</p>'
        bar, heading = (
            ("", "<h1>Users and access</h1>")
            if variant
            else (org_bar(org), "<h2>Manage users</h2>")
        )
        return (
            f"{bar}"
            f'<main id="manage-users" data-org-id="{esc(org.org_id)}" data-tab="{tab}"'
            f' data-page="{page}">{heading}'
            f'<nav class="tabs" aria-label="User lists">{tabs}</nav>{notice}{listing}'
            f'<p><a href="{HOME_PATH}">Back to clients</a></p></main>'
        )


def create_app(world: World, settings: PortalSettings | None = None) -> Starlette:
    """The imitation QuickBooks Online over ``world``'s qbo companies and logins."""
    rt = new_runtime(world, LOOK)
    return build_app(rt, QboPages(rt).routes(), settings or PortalSettings())
