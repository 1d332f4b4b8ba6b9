"""The ``myob`` scraper: MYOB's sign-in pages, its business list, then its users JSON.

MYOB's Users and permissions page scrolls in cards from
``/api/businesses/{id}/users?page=K&pageSize=N``; the scraper reads those pages at
the largest page size the portal allows (50), so nothing has to be scrolled. The
JSON's ``total`` is the evidence: every page is read until the items add up to it.

Only SPEC's promises are relied on: on the business list, the links to each
business's users page (named by the business); in the JSON, the keys it names.
Other keys are ignored; a key the scraper reads that is missing is a changed layout,
but for ``addedBy``, which only says who may remove an entry: without it, nobody
knows (``PortalUser.added_by_owner`` is ``None``).

Check by hand: ``/account/login``, ``/businesses``, ``/business/{businessId}/users``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit

from agent.capture import Credentials, LayoutChanged, OrgRef, OrgUsers, PortalError, PortalUser
from agent.domain import AccessStatus, Portal
from agent.orgid import ID_SHAPES, parse_org_id
from agent.scrapers.http import get_json, session_alive
from agent.scrapers.pages import open_org_page, page_from
from agent.scrapers.signin import SignInPages, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

LOGIN_PATH = "/account/login"
PAGE_SIZE = 50
#: where each business on the list links: its users page, and nothing under it
_BUSINESS = re.compile(rf"/business/({ID_SHAPES[Portal.MYOB]})/users/?")
_STATUS = {"ACTIVE": AccessStatus.ACTIVE, "INVITED": AccessStatus.PENDING}
#: the keys of a user the scraper reads: each must be there (other keys are ignored)
_USER_KEYS = ("id", "email", "name", "access", "userType", "status", "roles")
#: ``addedBy``: whether the business owner added the entry (only the owner may remove it)
_ADDED_BY: dict[str | None, bool | None] = {"owner": True, "user": False, None: None}
_MAX_PAGES = 1000


SIGN_IN = SignInPages(
    path=LOGIN_PATH,
    email_label="Email",
    password_label="Password",
    password_button="Sign in",
    wrong_password="Incorrect email or password.",
    code_label="Code from your authenticator app",
    code_button="Verify",
    landing="/businesses",
)


class MyobScraper:
    portal: ClassVar[Portal] = Portal.MYOB

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        await sign_in(context, credentials, SIGN_IN)

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        return await session_alive(context, f"{base_url}/businesses")

    async def org_pages(
        self, context: BrowserContext, base_url: str
    ) -> AsyncGenerator[Sequence[OrgRef], None]:
        url = f"{base_url}/businesses"
        async with page_from(context) as page:
            await open_org_page(page, url, login_path=LOGIN_PATH)
            links = await page.get_by_role("link").evaluate_all(
                "els => els.map(e => [e.getAttribute('href'), (e.textContent || '').trim()])"
            )
        # SPEC promises only the links (no heading, no list markup): each business is
        # the first link to its users page, named by the business
        orgs: dict[str, OrgRef] = {}
        for href, name in links:
            match = _BUSINESS.fullmatch(urlsplit(urljoin(url, href or "")).path)
            if match:
                business = parse_org_id(self.portal, match.group(1))
                orgs.setdefault(business, OrgRef(self.portal, business, name))
        yield list(orgs.values())  # the portal lists every business on one page

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        users: list[PortalUser] = []
        total: int | None = None
        for number in range(1, _MAX_PAGES + 1):
            url = (
                f"{base_url}/api/businesses/{org.portal_org_id}/users"
                f"?page={number}&pageSize={PAGE_SIZE}"
            )
            body = await get_json(context, url)
            items, page_total = _page(body, number)
            if total is None:
                total = page_total
            elif page_total != total:
                raise PortalError(f"the total changed from {total} to {page_total} while reading")
            users.extend(_user(item) for item in items)
            if len(users) >= total or not items:
                break
        else:
            raise PortalError(f"the user list did not end after {_MAX_PAGES} pages")
        if total is None or len(users) != total:
            raise PortalError(f"read {len(users)} users, the portal says {total}")
        return OrgUsers(
            org=org, users=tuple(users), reported_total=total, evidence=f"JSON total {total}"
        )


def _page(body: Any, number: int) -> tuple[list[Any], int]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise LayoutChanged("the users JSON has no 'items' list")
    if not isinstance(body.get("total"), int):
        raise LayoutChanged("the users JSON has no 'total' count")
    if body.get("page") not in (number, None):
        raise PortalError(f"asked for page {number}, the portal answered page {body.get('page')}")
    return body["items"], body["total"]


def _user(row: Any) -> PortalUser:
    if not isinstance(row, dict) or any(key not in row for key in _USER_KEYS):
        raise LayoutChanged("a user in the users JSON lacks the expected keys")
    status = _STATUS.get(str(row["status"]).upper())
    if status is None:
        raise LayoutChanged(f"unknown user status {row['status']!r}")
    roles = row["roles"]
    if not isinstance(roles, list):
        raise LayoutChanged("roles is not a list")
    added_by = row.get("addedBy")
    if not isinstance(added_by, str | None) or added_by not in _ADDED_BY:
        raise LayoutChanged(f"unknown addedBy {added_by!r} in the users JSON")
    user_id = row["id"]
    return PortalUser(
        email=str(row["email"]),
        name=str(row["name"]),
        role=str(row["userType"]),
        status=status,
        extra_permissions=tuple(str(r) for r in roles),
        kind=str(row["access"]),
        portal_user_id=str(user_id) if isinstance(user_id, str | int) and user_id != "" else None,
        added_by_owner=_ADDED_BY[added_by],
    )
