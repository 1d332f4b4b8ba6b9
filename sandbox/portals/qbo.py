"""The imitation QuickBooks Online: server-rendered pages, paginated, two tabs.

Real QBO signs in identifier-first (the email on one page, the password on the
next), lists a practice's clients 50 to a page, and splits a company's users into
**Users** and **Accounting firms** tabs of 25 rows. A scraper has to walk every page
of both tabs and trust the ``{a}-{b} of {N}`` text, not the first page's rows. There
is no JSON here: everything is in the HTML. Contract: SPEC.md, ``qbo``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.portals.common import (
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
from sandbox.portals.signin import CodePage, CodeStep
from sandbox.world import World, WorldOrg, WorldUser

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


def _pager(base: str, params: dict[str, str], page: int, has_next: bool) -> str:
    links = []
    if page > 1:
        query = urlencode({**params, "page": str(page - 1)})
        links.append(f'<a href="{esc(base + "?" + query)}" rel="prev">Previous</a>')
    if has_next:
        query = urlencode({**params, "page": str(page + 1)})
        links.append(f'<a href="{esc(base + "?" + query)}" rel="next">Next</a>')
    if not links:
        return ""
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>'


def _cells(user: WorldUser, tab: str) -> list[tuple[str, str]]:
    """A row's ``(field, text)`` pairs, in column order."""
    if tab == FIRMS_TAB:
        return [
            ("firm", user.firm_name or ""),
            ("name", user.name),
            ("email", user.email),
            ("status", user.status),
        ]
    return [
        ("name", user.name),
        ("email", user.email),
        ("type", user_type(user)),
        ("status", user.status),
    ]


HEADERS = {
    USERS_TAB: ("Name", "Email", "User type", "Status"),
    FIRMS_TAB: ("Firm", "Name", "Email", "Status"),
}


def users_table(users: list[WorldUser], tab: str) -> str:
    """Layout 1: one table per tab."""
    head = "".join(f'<th scope="col">{h}</th>' for h in HEADERS[tab])
    rows = "".join(
        f'<tr data-user-id="{esc(u.user_id)}">'
        + "".join(f"<td>{esc(text)}</td>" for _, text in _cells(u, tab))
        + "</tr>"
        for u in users
    )
    return (
        f'<table class="users-table" data-tab="{tab}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def people_list(users: list[WorldUser], tab: str) -> str:
    """Layout 2: the same rows as a list of people, under new class names."""
    items = "".join(
        f'<li class="person" data-person-id="{esc(u.user_id)}">'
        + "".join(
            f'<span class="person__{field}">{esc(text)}</span>' for field, text in _cells(u, tab)
        )
        + "</li>"
        for u in users
    )
    return f'<ul class="qbo-people" data-list="{tab}">{items}</ul>'


VERIFY = CodePage(path=VERIFY_PATH, title="Verify | Intuit",
                  heading="Check your authenticator app", label="Verification code",
                  button="Continue",
                  intro="<p>Enter the 6-digit code from your authenticator app.</p>")


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
        if members:
            rows = "".join(
                f'<tr data-org-id="{esc(m.org.org_id)}"><td>'
                f'<a href="/app/company/{esc(m.org.org_id)}/manageusers">{esc(m.org.name)}</a>'
                f"</td><td>{esc(m.viewer.status)}</td></tr>"
                for m in members[start:end]
            )
            listing = (
                '<table class="client-table"><thead><tr><th scope="col">Client</th>'
                f'<th scope="col">Status</th></tr></thead><tbody>{rows}</tbody></table>'
                f'<p class="range">{start + 1}-{end} of {len(members)}</p>'
                + _pager(HOME_PATH, {}, page, end < len(members))
            )
        else:
            listing = "<p>No clients to show</p>"
        body = (
            f'<main id="client-list"><h1>Clients</h1>'
            f'<p class="muted">Signed in as {esc(session.login.email)}</p>{listing}</main>'
        )
        return self.rt.page("Clients | QuickBooks", body)

    # -- manage users

    async def manage_users(self, request: Request) -> Response:
        session = self.rt.session(request)
        if session is None:
            return self.rt.unauthenticated(request)
        member = self.rt.directory.membership(session.login, request.path_params["realm_id"])
        if member is None:
            return self.rt.not_found(request)
        org = member.org
        if not can_view_users(member.viewer):
            return self.rt.no_permission(request, org, org_bar(org))
        tab = request.query_params.get("tab") or USERS_TAB
        page = parse_int(request.query_params.get("page"), 1)
        if tab not in EMPTY_TEXT or page is None:
            return self.rt.not_found(request)
        users = [u for u in org.users if tab_of(u) == tab]
        bounds = page_range(len(users), page, USERS_PAGE_SIZE)
        if bounds is None:
            return self.rt.not_found(request)
        return self.rt.page(
            f"Manage users | {org.name} | QuickBooks",
            self._manage_users_body(org, tab, page, users, bounds),
        )

    def _manage_users_body(
        self, org: WorldOrg, tab: str, page: int, users: list[WorldUser], bounds: tuple[int, int]
    ) -> str:
        base = f"/app/company/{org.org_id}/manageusers"
        tabs = "".join(
            f'<a href="{esc(base + "?" + urlencode({"tab": name}))}"'
            + (' aria-current="page"' if name == tab else "")
            + f">{text}</a>"
            for name, text in ((USERS_TAB, "Users"), (FIRMS_TAB, "Accounting firms"))
        )
        start, end = bounds
        if users:
            shown = users[start:end]
            rows = (
                people_list(shown, tab)
                if self.rt.settings.layout_version == 2
                else users_table(shown, tab)
            )
            listing = f'{rows}<p class="range">{start + 1}-{end} of {len(users)}</p>' + _pager(
                base, {"tab": tab}, page, end < len(users)
            )
        else:
            listing = f'<p class="empty">{EMPTY_TEXT[tab]}</p>'
        return (
            f"{org_bar(org)}"
            f'<main id="manage-users" data-org-id="{esc(org.org_id)}" data-tab="{tab}"'
            f' data-page="{page}"><h2>Manage users</h2>'
            f'<nav class="tabs" aria-label="User lists">{tabs}</nav>{listing}'
            f'<p><a href="{HOME_PATH}">Back to clients</a></p></main>'
        )


def create_app(world: World, settings: PortalSettings | None = None) -> Starlette:
    """The imitation QuickBooks Online over ``world``'s qbo companies and logins."""
    rt = new_runtime(world, LOOK)
    return build_app(rt, QboPages(rt).routes(), settings or PortalSettings())
