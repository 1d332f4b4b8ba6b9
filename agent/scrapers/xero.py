"""The ``xero`` scraper: Xero's sign-in pages, then its own JSON.

Xero's web app reads ``/api/myxero/orgs`` and ``/api/orgs/{shortCode}/users`` and
renders them in the browser; the scraper reads the same JSON with the signed-in
context's cookies, so no users page is ever rendered. The JSON's own ``total`` and
the presence of the viewer (the agent's login is listed in every org) are the
evidence that a list is complete.

Only SPEC's keys are read. Keys SPEC does not name are ignored; a key the scraper
reads that is missing is a changed layout (never a user without permissions or an
org without a name).

Check by hand: ``/identity/user/login``, ``/myxero``, ``/app/{shortCode}/settings/users``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from agent.capture import (
    Credentials,
    LayoutChanged,
    OrgRef,
    OrgUsers,
    PortalError,
    PortalUser,
    SessionExpired,
)
from agent.domain import AccessStatus, Portal
from agent.orgid import parse_org_id
from agent.scrapers.http import get_json
from agent.scrapers.signin import SignInPages, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

_STATUS = {
    "ACTIVE": AccessStatus.ACTIVE,
    "PENDING": AccessStatus.PENDING,
    "DECLINED": AccessStatus.DECLINED,
}
#: the keys of a user the scraper reads: each must be there (other keys are ignored)
_USER_KEYS = (
    "email",
    "firstName",
    "lastName",
    "role",
    "status",
    "extraPermissions",
    "lastLoginUtc",
    "userId",
    "isSubscriber",
)


SIGN_IN = SignInPages(
    path="/identity/user/login",
    email_label="Email address",
    password_label="Password",
    password_button="Log in",
    wrong_password="Your email or password is incorrect",
    code_label="Authentication code",
    code_button="Confirm",
    landing="/myxero",
)


class XeroScraper:
    portal: ClassVar[Portal] = Portal.XERO

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        await sign_in(context, credentials, SIGN_IN)

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        try:
            await get_json(context, f"{base_url}/api/myxero/orgs")
        except SessionExpired:
            return False
        return True

    async def org_pages(
        self, context: BrowserContext, base_url: str
    ) -> AsyncGenerator[Sequence[OrgRef], None]:
        body = await get_json(context, f"{base_url}/api/myxero/orgs")
        rows = body.get("orgs") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise LayoutChanged("the org list JSON has no 'orgs' list")
        orgs: list[OrgRef] = []
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("shortCode"), str):
                raise LayoutChanged("an org in the org list JSON has no shortCode")
            if not isinstance(row.get("name"), str):
                raise LayoutChanged("an org in the org list JSON has no name")
            try:
                short_code = parse_org_id(self.portal, row["shortCode"])
            except ValueError as exc:
                raise LayoutChanged(
                    f"the org list JSON lists an id of another format: {exc}"
                ) from None
            role = row.get("role")
            orgs.append(
                OrgRef(
                    self.portal, short_code, row["name"], role if isinstance(role, str) else None
                )
            )
        yield orgs  # the portal lists every org in one answer

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        url = f"{base_url}/api/orgs/{quote(org.portal_org_id, safe='')}/users"
        body = await get_json(context, url)
        if not isinstance(body, dict) or not isinstance(body.get("users"), list):
            raise LayoutChanged("the users JSON has no 'users' list")
        total = body.get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise LayoutChanged("the users JSON has no 'total' count")
        users = tuple(_user(row) for row in body["users"])
        if len(users) != total:
            raise PortalError(f"the users JSON says {total} users but lists {len(users)}")
        return OrgUsers(org=org, users=users, reported_total=total, evidence=f"JSON total {total}")


def _user(row: Any) -> PortalUser:
    if not isinstance(row, dict) or any(key not in row for key in _USER_KEYS):
        raise LayoutChanged("a user in the users JSON lacks the expected keys")
    status = _STATUS.get(str(row["status"]).upper())
    if status is None:
        raise LayoutChanged(f"unknown user status {row['status']!r} in the users JSON")
    extras = row["extraPermissions"]
    if not isinstance(extras, list):
        raise LayoutChanged("extraPermissions is not a list")
    subscriber = row["isSubscriber"]
    if not isinstance(subscriber, bool):
        raise LayoutChanged(f"isSubscriber is {subscriber!r}, not true or false")
    return PortalUser(
        email=str(row["email"]),
        name=f"{row['firstName'] or ''} {row['lastName'] or ''}".strip(),
        role=str(row["role"]),
        status=status,
        extra_permissions=tuple(str(p) for p in extras),
        last_login=_parse_time(row.get("lastLoginUtc")),
        portal_user_id=_user_id(row["userId"]),
        subscriber=subscriber,
    )


def _user_id(raw: object) -> str | None:
    """The portal's id for a user, as text; ``None`` when it gives none."""
    if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    return str(raw).strip() or None


def _parse_time(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
