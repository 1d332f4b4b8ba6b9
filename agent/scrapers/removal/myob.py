"""MYOB: the Users and permissions page's token, then the DELETE its dialog sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from agent.capture import OrgRef
from agent.domain import Portal
from agent.scrapers.removal.base import Answer, Outcome, Target, send_with_token, token_from_page

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


class MyobRemover:
    portal: ClassVar[Portal] = Portal.MYOB

    async def csrf_token(self, context: BrowserContext, base_url: str, org: OrgRef) -> str:
        business = quote(org.portal_org_id, safe="")
        return await token_from_page(context, f"{base_url}/business/{business}/users")

    async def remove(
        self, context: BrowserContext, base_url: str, org: OrgRef, target: Target, token: str
    ) -> Answer:
        if not target.portal_user_id:
            return Answer(Outcome.REFUSED, reason="the users list gives no id for this user")
        business = quote(org.portal_org_id, safe="")
        user = quote(target.portal_user_id, safe="")
        url = f"{base_url}/api/businesses/{business}/users/{user}"
        return await send_with_token(context, "DELETE", url, token, ok={200, 204})
