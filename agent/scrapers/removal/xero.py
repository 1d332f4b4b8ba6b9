"""Xero: the users page's token, then the POST its ``Remove`` dialog sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from agent.capture import OrgRef
from agent.domain import Portal
from agent.scrapers.removal.base import Answer, Outcome, Target, send_with_token, token_from_page

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


class XeroRemover:
    portal: ClassVar[Portal] = Portal.XERO

    async def csrf_token(self, context: BrowserContext, base_url: str, org: OrgRef) -> str:
        code = quote(org.portal_org_id, safe="!")
        return await token_from_page(context, f"{base_url}/app/{code}/settings/users")

    async def remove(
        self, context: BrowserContext, base_url: str, org: OrgRef, target: Target, token: str
    ) -> Answer:
        if not target.portal_user_id:
            return Answer(Outcome.REFUSED, reason="the users list gives no id for this user")
        code = quote(org.portal_org_id, safe="!")
        user = quote(target.portal_user_id, safe="")
        url = f"{base_url}/api/orgs/{code}/users/{user}/remove"
        return await send_with_token(context, "POST", url, token, ok={200})
