"""The ``qbo`` scraper: QuickBooks Online's identifier-first sign-in and its server-rendered pages.

QBO has no JSON for users, so its pages are read: the **Users** and **Accounting
firms** tabs of Manage users, 25 rows a page, every page. Tables are found by their
accessible role and column headers, then read in one round trip; the
``{a}-{b} of {N}`` text under each table is the evidence that every row was read, and
the tab's own empty text (``No users to show``) is the only way to zero rows.

Pages are fetched with the signed-in context's session and read by the browser
(``reading``: several pages, the two tabs and other orgs' pages, in one document):
the tables, located by role, the tab's own picked by its header row, and the page's
visible text lines, from which the no-permission notice, the company's name, the
empty text and the range are all checked.

Check by hand: ``/signin``, ``/clients``, ``/app/company/{realmId}/manageusers?tab=firms``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlencode, urljoin

from agent.domain import AccessStatus, Portal
from agent.scrapers.base import (
    Credentials,
    LayoutChanged,
    NoPermission,
    OrgRef,
    OrgUsers,
    PortalError,
    PortalUser,
)
from agent.scrapers.pages import NO_PERMISSION_TEXT
from agent.scrapers.reading import fetch_and_read
from agent.scrapers.signin import SignInPages, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

LOGIN_PATH = "/signin"
USERS_HEADERS = ("Name", "Email", "User type", "Status")
FIRMS_HEADERS = ("Firm", "Name", "Email", "Status")
CLIENTS_HEADERS = ("Client", "Status")
TABS = (("users", USERS_HEADERS, "No users to show"), ("firms", FIRMS_HEADERS,
                                                         "No accounting firms"))
_RANGE = re.compile(r"^\s*(\d+)-(\d+) of (\d+)\s*$")
_REALM = re.compile(r"/app/company/(\d{10,19})/manageusers")
_STATUS = {"active": AccessStatus.ACTIVE, "invited": AccessStatus.PENDING,
           "inactive": AccessStatus.INACTIVE}
_MAX_PAGES = 2000


SIGN_IN = SignInPages(
    path=LOGIN_PATH, email_label="Email or user ID", identifier_button="Continue",
    password_label="Password", password_button="Sign in",
    wrong_password="Incorrect password. Try again or reset it.",
    code_label="Verification code", code_button="Continue", landing="/clients",
)

class QboScraper:
    portal: ClassVar[Portal] = Portal.QBO

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        await sign_in(context, credentials, SIGN_IN)

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        response = await context.request.get(f"{base_url}/clients", max_redirects=0,
                                             fail_on_status_code=False)
        return response.status == 200

    async def org_pages(self, context: BrowserContext, base_url: str
                        ) -> AsyncIterator[Sequence[OrgRef]]:
        url = f"{base_url}/clients"
        for _ in range(_MAX_PAGES):
            page = await fetch_and_read(context, url)
            if any(NO_PERMISSION_TEXT in line for line in page.lines):
                raise NoPermission("the login's role cannot list clients")
            if "No clients to show" in page.lines:
                return
            index = _index_of_table(page.tables, CLIENTS_HEADERS)
            orgs: list[OrgRef] = []
            for name, href in page.table_links[index]:
                match = _REALM.search(href or "")
                if match:
                    orgs.append(OrgRef(self.portal, match.group(1), name))
            yield orgs
            following = [href for name, href in page.links if name == "Next" and href]
            if not following:
                return
            url = urljoin(url, following[0])
        raise PortalError(f"the client list did not end after {_MAX_PAGES} pages")

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        # both tabs at once: their pages are read in one document, with other orgs'
        reads = [asyncio.create_task(_read_tab(context, base_url, org, tab, headers, empty))
                 for tab, headers, empty in TABS]
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
            users.extend(_user(tab, row) for row in rows)
            evidence.append(f"{tab}: {total}")
        return OrgUsers(org=org, users=tuple(users), reported_total=len(users),
                        evidence="; ".join(evidence))


async def _read_tab(
    context: BrowserContext, base_url: str, org: OrgRef, tab: str, headers: tuple[str, ...],
    empty_text: str,
) -> tuple[list[list[str]], int]:
    """Every row of one tab, page by page, checked against the page's own range text."""
    rows: list[list[str]] = []
    for number in range(1, _MAX_PAGES + 1):
        query = urlencode({"tab": tab, "page": number})
        url = f"{base_url}/app/company/{org.portal_org_id}/manageusers?{query}"
        page = await fetch_and_read(context, url)
        lines = page.lines
        if any(NO_PERMISSION_TEXT in line for line in lines):
            raise NoPermission("the login's role in this org cannot view users")
        _check_org_shown(lines, org)
        if number == 1 and empty_text in lines:
            return [], 0
        table = page.tables[_index_of_table(page.tables, headers)]
        body = [r for r in table if r and r != list(headers)]
        first, last, total = _range(lines)
        if first != len(rows) + 1 or last - first + 1 != len(body):
            raise PortalError(
                f"{tab} page {number} shows {first}-{last} of {total} but holds {len(body)} rows"
            )
        rows.extend(body)
        if last >= total:
            if len(rows) != total:
                raise PortalError(f"{tab}: read {len(rows)} rows, the page says {total}")
            return rows, total
    raise PortalError(f"the {tab} tab did not end after {_MAX_PAGES} pages")


def _index_of_table(tables: list[list[list[str]]], headers: tuple[str, ...]) -> int:
    """Which of the page's tables is the one whose header row is ``headers``.

    Tables are found by their accessible role (``reading``); the one wanted is picked
    here by its header row rather than by a locator filter per column, which would
    make the browser work out every column header's accessible name once per filter.
    """
    wanted = list(headers)
    matching = [i for i, rows in enumerate(tables) if rows and rows[0] == wanted]
    if len(matching) != 1:
        raise LayoutChanged(
            f"expected one table with columns {', '.join(headers)}, found {len(matching)}"
        )
    return matching[0]


def _range(lines: list[str]) -> tuple[int, int, int]:
    matches = [m for m in (_RANGE.match(line) for line in lines) if m]
    if len(matches) != 1:
        raise LayoutChanged("the page has no single 'a-b of N' range text")
    first, last, total = (int(g) for g in matches[0].groups())
    return first, last, total


def _check_org_shown(lines: list[str], org: OrgRef) -> None:
    """The page must show the org that was asked for.

    Its address is the one asked for (redirects are never followed); its content must
    also carry the company's name, so a portal that answers with another company's
    page, or a generic one, is not read as this company's users.
    """
    if org.name and " ".join(org.name.split()) not in lines:
        raise LayoutChanged(f"the page does not show the company's name {org.name!r}")


def _user(tab: str, cells: list[str]) -> PortalUser:
    if tab == "firms":
        if len(cells) != 4:
            raise LayoutChanged(f"a firms row has {len(cells)} cells, not 4")
        firm, name, email, status = cells
        role, kind = "Accountant", "firms"
        del firm
    else:
        if len(cells) != 4:
            raise LayoutChanged(f"a users row has {len(cells)} cells, not 4")
        name, email, role, status = cells
        kind = "users"
    access = _STATUS.get(status.strip().casefold())
    if access is None:
        raise LayoutChanged(f"unknown status {status!r}")
    if "@" not in email:
        raise LayoutChanged(f"the Email cell holds {email!r}")
    return PortalUser(email=email.strip(), name=name.strip(), role=role.strip(), status=access,
                      kind=kind)
