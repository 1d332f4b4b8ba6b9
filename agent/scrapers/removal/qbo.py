"""QuickBooks Online: the row's delete page, then the form it holds.

QBO has no removal JSON: the ``Action`` column links each removable row to
``/manageusers/{userId}/delete``, a page with a form (a hidden ``csrf_token``) whose
POST answers 303 back to the tab. The first removal of a session reads that page and
posts its form; the token, tied to the session (SPEC), is handed back for the later
ones, which post the same form to their own user's address. A refusal asks for JSON
to get the portal's reason; a redirect anywhere but back to Manage users is an
expired session.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote, urljoin, urlsplit

from agent.capture import LayoutChanged, OrgRef, SessionExpired
from agent.domain import Portal
from agent.scrapers.http import send
from agent.scrapers.removal.base import Answer, Outcome, Target, judge

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.IGNORECASE | re.DOTALL)
_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def _attrs(tag: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html.unescape(m.group(3) or m.group(4) or m.group(5) or "")
        for m in _ATTR.finditer(tag)
    }


class QboRemover:
    portal: ClassVar[Portal] = Portal.QBO

    async def csrf_token(self, context: BrowserContext, base_url: str, org: OrgRef) -> str:
        return ""  # each delete page carries its own form token

    async def remove(
        self, context: BrowserContext, base_url: str, org: OrgRef, target: Target, token: str
    ) -> Answer:
        if not target.portal_user_id:
            return Answer(Outcome.REFUSED, reason="the portal offers no delete link for this user")
        page_url = (
            f"{base_url}/app/company/{quote(org.portal_org_id, safe='')}/manageusers/"
            f"{quote(target.portal_user_id, safe='')}/delete"
        )
        action: str = page_url
        fields: dict[str, str | float | bool] = {"csrf_token": token}
        if not token:
            status, headers, text = await send(
                context, "GET", page_url, headers={"Accept": "text/html"}
            )
            if status != 200:
                return self._judge(page_url, status, headers, text)
            action, fields = _csrf_form(text, page_url)
        status, headers, body = await send(
            context,
            "POST",
            action,
            headers={"Accept": "application/json"},
            form=fields,
        )
        answer = self._judge(action, status, headers, body)
        return replace(answer, token=str(fields.get("csrf_token", "")))

    def _judge(self, url: str, status: int, headers: dict[str, str], text: str) -> Answer:
        if 300 <= status < 400:
            location = urlsplit(urljoin(url, headers.get("location", "")))
            if "/manageusers" in location.path:
                return Answer(Outcome.REMOVED, status=status)
            raise SessionExpired(f"{url} answered {status}: the session is no longer accepted")
        return judge(url, status, headers, text, ok=set())


def _csrf_form(text: str, url: str) -> tuple[str, dict[str, str | float | bool]]:
    """The form of the delete page that carries ``csrf_token``: where it posts, its fields."""
    for match in _FORM.finditer(text):
        fields: dict[str, str | float | bool] = {
            a["name"]: a.get("value", "")
            for tag in _INPUT.findall(match.group(2))
            if (a := _attrs(tag)).get("name")
        }
        if "csrf_token" in fields:
            action = _attrs(f"<form {match.group(1)}>").get("action") or url
            return urljoin(url, action), fields
    raise LayoutChanged(f"{url} has no form with a csrf_token")
