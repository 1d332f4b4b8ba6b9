"""Xero: the users page's token, then the POST its ``Remove`` dialog sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from agent.capture import OrgRef
from agent.domain import Portal
from agent.scrapers.http import get_html, send
from agent.scrapers.removal.base import Answer, Outcome, Target, csrf_from_html, judge

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


class XeroRemover:
    portal: ClassVar[Portal] = Portal.XERO

    async def csrf_token(self, context: BrowserContext, base_url: str, org: OrgRef) -> str:
        url = f"{base_url}/app/{quote(org.portal_org_id, safe='!')}/settings/users"
        return csrf_from_html(await get_html(context, url))

    async def remove(
        self, context: BrowserContext, base_url: str, org: OrgRef, target: Target, token: str
    ) -> Answer:
        if not target.portal_user_id:
            return Answer(Outcome.REFUSED, reason="the users list gives no id for this user")
        url = (
            f"{base_url}/api/orgs/{quote(org.portal_org_id, safe='!')}/users/"
            f"{quote(target.portal_user_id, safe='')}/remove"
        )
        status, headers, text = await send(
            context,
            "POST",
            url,
            headers={"Accept": "application/json", "X-CSRF-Token": token},
        )
        return judge(url, status, headers, text, ok={200})
