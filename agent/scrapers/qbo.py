"""The ``qbo`` scraper: QuickBooks Online's identifier-first sign-in and its server-rendered pages.

QBO has no JSON for users, so its pages are read: the **Users** and **Accounting
firms** tabs of Manage users, 25 rows a page, every page. Tables are found by their
accessible role and column headers, then read in one round trip; the
``{a}-{b} of {N}`` text under each table is the evidence that every row was read, and
the tab's own empty text (``No users to show``) is the only way to zero rows.

Pages are fetched with the signed-in context's session and read by the browser
(``reading``: several pages, the two tabs and other orgs' pages, in one document):
the tables, located by role, the tab's own picked by its header row, and the page's
visible text lines, from which the no-permission notice, the empty text and the
range are checked.

Only what SPEC promises is relied on: the column names (a table may have more
columns, such as the ``Action`` column of a viewer who may remove users, in any
order), the texts it names, the addresses. No heading, title, company name, class
or id is looked for; a needed column that is missing is a changed layout. A row's
user id comes from its ``Action`` link (``/app/company/{realmId}/manageusers/{userId}
/delete``), the one place SPEC shows it; a row without one has no id.

Check by hand: ``/signin``, ``/clients``, ``/app/company/{realmId}/manageusers?tab=firms``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote, urlencode, urljoin, urlsplit

from agent.capture import (
    Credentials,
    LayoutChanged,
    NoPermission,
    OrgRef,
    OrgUsers,
    PortalError,
    PortalUser,
)
from agent.domain import AccessStatus, Portal
from agent.orgid import ID_SHAPES, parse_org_id
from agent.scrapers.http import session_alive
from agent.scrapers.pages import NO_PERMISSION_TEXT
from agent.scrapers.reading import CellLink, ReadPage, fetch_and_read
from agent.scrapers.signin import SignInPages, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

LOGIN_PATH = "/signin"
#: The columns SPEC names for each table. A table is found by having every one of
#: them (extra columns, such as the ``Action`` column of a viewer who may remove
#: users, and any order are fine); cells are then read by column name.
USERS_HEADERS = ("Name", "Email", "User type", "Status")
FIRMS_HEADERS = ("Firm", "Name", "Email", "Status")
CLIENTS_HEADERS = ("Client", "Status")
TABS = (
    ("users", USERS_HEADERS, "No users to show"),
    ("firms", FIRMS_HEADERS, "No accounting firms"),
)
#: ``{a}-{b} of {N}``, alone on its line or within one (beside the pager's links)
_RANGE = re.compile(r"(?<![\d-])(\d+)-(\d+) of (\d+)(?!\d)")
#: where each client links: the company's Manage users page, and nothing under it
_MANAGE_USERS = re.compile(rf"/app/company/({ID_SHAPES[Portal.QBO]})/manageusers/?")
#: where a removable row's ``Action`` link goes: the company's delete page for the user
_DELETE = re.compile(rf"/app/company/({ID_SHAPES[Portal.QBO]})/manageusers/([^/]+)/delete/?")
ACTION_HEADER = "Action"
_STATUS = {
    "active": AccessStatus.ACTIVE,
    "invited": AccessStatus.PENDING,
    "inactive": AccessStatus.INACTIVE,
}
_MAX_PAGES = 2000


SIGN_IN = SignInPages(
    path=LOGIN_PATH,
    email_label="Email or user ID",
    identifier_button="Continue",
    password_label="Password",
    password_button="Sign in",
    wrong_password="Incorrect password. Try again or reset it.",
    code_label="Verification code",
    code_button="Continue",
    landing="/clients",
)


class QboScraper:
    portal: ClassVar[Portal] = Portal.QBO

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        await sign_in(context, credentials, SIGN_IN)

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        return await session_alive(context, f"{base_url}/clients")

    async def org_pages(
        self, context: BrowserContext, base_url: str
    ) -> AsyncGenerator[Sequence[OrgRef], None]:
        url = f"{base_url}/clients"
        for _ in range(_MAX_PAGES):
            page = await fetch_and_read(context, url)
            if any(NO_PERMISSION_TEXT in line for line in page.lines):
                raise NoPermission("the login's role cannot list clients")
            yield _clients(page, url)
            following = _next_page(page)
            if following is None:
                return
            url = urljoin(url, following)
        raise PortalError(f"the client list did not end after {_MAX_PAGES} pages")

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        # both tabs at once: their pages are read in one document, with other orgs'
        reads = [
            asyncio.create_task(_read_tab(context, base_url, org, tab, headers, empty))
            for tab, headers, empty in TABS
        ]
        try:
            results = await asyncio.gather(*reads)
        except BaseException:
            for read in reads:  # the first failure is the org's; the other tab is moot
                read.cancel()
            await asyncio.gather(*reads, return_exceptions=True)
            raise
        users: list[PortalUser] = []
        evidence: list[str] = []
        for (tab, _, _), (rows, total) in zip(TABS, results, strict=True):
            users.extend(rows)
            evidence.append(f"{tab}: {total}")
        return OrgUsers(
            org=org, users=tuple(users), reported_total=len(users), evidence="; ".join(evidence)
        )


def _clients(page: ReadPage, url: str) -> list[OrgRef]:
    """The companies of one page of the client list, by the table's ``Client`` column.

    Each row must link to exactly one company's Manage users page (from any of its
    cells: a portal may add a column of links to the same page); the name is the
    text of that link in the ``Client`` cell, or the cell's own text.
    """
    index, columns = _table(page.tables, CLIENTS_HEADERS)
    if index is None:
        raise LayoutChanged(
            f"the client list has no table with columns {', '.join(CLIENTS_HEADERS)}"
        )
    client = columns["Client"]
    rows = page.tables[index]
    links: dict[int, list[tuple[int, str, str]]] = {}
    for row, cell, text, href in page.table_links[index]:
        links.setdefault(row, []).append((cell, text, href))
    orgs: list[OrgRef] = []
    for number, cells in enumerate(rows[1:], start=1):
        if not _is_data_row(cells, rows[0]):
            continue
        company = [
            (cell, text, parse_org_id(Portal.QBO, m.group(1)))
            for cell, text, href in links.get(number, [])
            if (m := _MANAGE_USERS.fullmatch(urlsplit(urljoin(url, href)).path))
        ]
        realms = {realm for _, _, realm in company}
        if len(realms) != 1:
            raise LayoutChanged(f"client row {number} links to {len(realms)} companies, not one")
        named = [text for cell, text, _ in company if cell == client and text]
        orgs.append(OrgRef(Portal.QBO, realms.pop(), named[0] if named else cells[client].strip()))
    return orgs


def _next_page(page: ReadPage) -> str | None:
    """The ``href`` of the page's ``Next`` link, not counting links inside its tables."""
    in_tables = {(text, href) for found in page.table_links for _, _, text, href in found}
    following = [
        href
        for text, href in page.links
        if text == "Next" and href and (text, href) not in in_tables
    ]
    return following[0] if following else None


async def _read_tab(
    context: BrowserContext,
    base_url: str,
    org: OrgRef,
    tab: str,
    headers: tuple[str, ...],
    empty_text: str,
) -> tuple[list[PortalUser], int]:
    """Every row of one tab, page by page, checked against the page's own range text.

    A tab is empty only when its first page says so in SPEC's words, on a line of
    its own, and shows no row and no range of more than zero.
    """
    users: list[PortalUser] = []
    for number in range(1, _MAX_PAGES + 1):
        query = urlencode({"tab": tab, "page": number})
        url = f"{base_url}/app/company/{org.portal_org_id}/manageusers?{query}"
        page = await fetch_and_read(context, url)
        lines = page.lines
        if any(NO_PERMISSION_TEXT in line for line in lines):
            raise NoPermission("the login's role in this org cannot view users")
        index, columns = _table(page.tables, headers)
        table = page.tables[index] if index is not None else []
        body = [
            (number, cells)
            for number, cells in enumerate(table[1:], start=1)
            if _is_data_row(cells, table[0])
        ]
        found = _ranges(lines)
        if (
            number == 1
            and not body
            and all(total == 0 for _, _, total in found)
            and empty_text in lines
        ):
            return [], 0
        if index is None:
            raise LayoutChanged(f"the {tab} tab has no table with columns {', '.join(headers)}")
        if len(found) != 1:
            raise LayoutChanged(f"the {tab} tab shows {len(found)} 'a-b of N' range texts, not one")
        first, last, total = found[0]
        if first != len(users) + 1 or last - first + 1 != len(body):
            raise PortalError(
                f"{tab} page {number} shows {first}-{last} of {total} but holds {len(body)} rows"
            )
        ids = _user_ids(page.table_links[index], table[0], org.portal_org_id, url)
        users.extend(_user(tab, cells, columns, ids.get(row)) for row, cells in body)
        if last >= total:
            if len(users) != total:
                raise PortalError(f"{tab}: read {len(users)} rows, the page says {total}")
            return users, total
    raise PortalError(f"the {tab} tab did not end after {_MAX_PAGES} pages")


def _table(
    tables: list[list[list[str]]], headers: tuple[str, ...]
) -> tuple[int | None, dict[str, int]]:
    """Which of the page's tables has every column of ``headers``, and where each is.

    Tables are found by their accessible role (``reading``); the one wanted is picked
    here by its header row, which must name each wanted column once; other columns,
    and the order, are the portal's own. ``None`` when no table has them; more than
    one is a changed layout.
    """
    matching: list[tuple[int, dict[str, int]]] = []
    for i, rows in enumerate(tables):
        if not rows:
            continue
        names = [" ".join(cell.split()) for cell in rows[0]]
        if all(names.count(h) == 1 for h in headers):
            matching.append((i, {h: names.index(h) for h in headers}))
    if len(matching) > 1:
        raise LayoutChanged(
            f"{len(matching)} tables have the columns {', '.join(headers)}, not one"
        )
    return matching[0] if matching else (None, {})


def _is_data_row(cells: list[str], header: list[str]) -> bool:
    """A row of the table's data: a cell under every header, and not the header again.

    A row may have a cell more (a control without a header of its own, after the
    others). Rows with fewer cells (a note spanning the table, an empty row) carry no
    user; the range text is what proves none was missed.
    """
    return len(cells) >= len(header) and cells != header


def _ranges(lines: list[str]) -> list[tuple[int, int, int]]:
    """The distinct ``a-b of N`` texts of the page: lines that are one, else within lines."""
    whole = [m for m in map(_RANGE.fullmatch, lines) if m]
    matches = whole or [m for line in lines for m in _RANGE.finditer(line)]
    distinct = dict.fromkeys((int(a), int(b), int(n)) for a, b, n in (m.groups() for m in matches))
    return list(distinct)


def _user_ids(links: list[CellLink], header: list[str], realm: str, url: str) -> dict[int, str]:
    """Each row's user id, from the link in its ``Action`` cell to this company's delete
    page; rows without one (a viewer who may not remove them) are left out."""
    names = [" ".join(cell.split()) for cell in header]
    if names.count(ACTION_HEADER) != 1:
        return {}
    action = names.index(ACTION_HEADER)
    ids: dict[int, str] = {}
    for row, cell, _, href in links:
        found = _DELETE.fullmatch(urlsplit(urljoin(url, href)).path)
        if cell == action and found and parse_org_id(Portal.QBO, found.group(1)) == realm:
            ids.setdefault(row, unquote(found.group(2)))
    return ids


def _user(
    tab: str, cells: list[str], columns: dict[str, int], user_id: str | None = None
) -> PortalUser:
    name, email, status = (cells[columns[h]].strip() for h in ("Name", "Email", "Status"))
    firm: str | None = None
    if tab == "firms":
        role, kind = "Accountant", "firms"
        firm = cells[columns["Firm"]].strip() or None
    else:
        role, kind = cells[columns["User type"]].strip(), "users"
    access = _STATUS.get(status.casefold())
    if access is None:
        raise LayoutChanged(f"unknown status {status!r}")
    if "@" not in email:
        raise LayoutChanged(f"the Email cell holds {email!r}")
    return PortalUser(
        email=email,
        name=name,
        role=role,
        status=access,
        kind=kind,
        portal_user_id=user_id,
        firm=firm,
    )
