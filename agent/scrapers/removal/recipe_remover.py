"""Removing a user as the portal's own page does, in the way its recipe describes.

Two ways cover the portals (``recipe.TokenRemoval`` and ``recipe.FormRemoval``):

* **token**: a JSON portal's dialog sends one request carrying the session's CSRF
  token in a header; the token is read once from the ``<meta>`` of a page that
  offers removal (SPEC ties it to the session, so one read serves every removal of
  that session).
* **form**: a server-rendered portal links each removable user to a delete page
  whose form carries the token; the first removal of a session reads that page and
  posts its form, the later ones post the same form to their own user's address. A
  refusal asks for JSON to get the portal's reason; a redirect anywhere but back to
  ``back_to`` is an expired session.

What every answer means is ``base.judge``'s.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from agent.capture import LayoutChanged, OrgRef, SessionExpired
from agent.domain import Portal
from agent.scrapers.http import get_html, send
from agent.scrapers.recipe import FormRemoval, TokenRemoval, address
from agent.scrapers.recipe_book import LoadedRecipe
from agent.scrapers.removal.base import Answer, Outcome, Target, csrf_from_html, judge

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.IGNORECASE | re.DOTALL)
_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))""")


class RecipeRemover:
    """Removes users of one portal as its recipe says (``base.Remover``)."""

    def __init__(self, loaded: LoadedRecipe) -> None:
        self.portal: Portal = loaded.recipe.portal
        self.how = loaded.recipe.removal

    async def csrf_token(self, context: BrowserContext, base_url: str, org: OrgRef) -> str:
        if isinstance(self.how, FormRemoval):
            return ""  # each delete page carries its own form token
        page = address(base_url, self.how.token_page, org=org.portal_org_id)
        return csrf_from_html(await get_html(context, page), self.how.token_meta)

    async def remove(
        self, context: BrowserContext, base_url: str, org: OrgRef, target: Target, token: str
    ) -> Answer:
        if not target.portal_user_id:
            return Answer(Outcome.REFUSED, reason="the users list gives no id for this user")
        if isinstance(self.how, TokenRemoval):
            return await self._with_token(context, base_url, org, target, token, self.how)
        return await self._with_form(context, base_url, org, target, token, self.how)

    async def _with_token(
        self,
        context: BrowserContext,
        base_url: str,
        org: OrgRef,
        target: Target,
        token: str,
        how: TokenRemoval,
    ) -> Answer:
        url = address(base_url, how.path, org=org.portal_org_id, user=target.portal_user_id)
        status, headers, text = await send(
            context,
            how.method,
            url,
            headers={"Accept": "application/json", how.token_header: token},
        )
        return judge(url, status, headers, text, ok=set(how.removed))

    async def _with_form(
        self,
        context: BrowserContext,
        base_url: str,
        org: OrgRef,
        target: Target,
        token: str,
        how: FormRemoval,
    ) -> Answer:
        page_url = address(
            base_url, how.form_page, org=org.portal_org_id, user=target.portal_user_id
        )
        action: str = page_url
        fields: dict[str, str | float | bool] = {how.token_field: token}
        if not token:
            status, headers, text = await send(
                context, "GET", page_url, headers={"Accept": "text/html"}
            )
            if status != 200:
                return _judge_form(page_url, status, headers, text, how)
            action, fields = _token_form(text, page_url, how.token_field)
        status, headers, body = await send(
            context, "POST", action, headers={"Accept": "application/json"}, form=fields
        )
        answer = _judge_form(action, status, headers, body, how)
        return replace(answer, token=str(fields.get(how.token_field, "")))


def _judge_form(
    url: str, status: int, headers: dict[str, str], text: str, how: FormRemoval
) -> Answer:
    if 300 <= status < 400:
        location = urlsplit(urljoin(url, headers.get("location", "")))
        if how.back_to in location.path:
            return Answer(Outcome.REMOVED, status=status)
        raise SessionExpired(f"{url} answered {status}: the session is no longer accepted")
    return judge(url, status, headers, text, ok=set())


def _attrs(tag: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html.unescape(m.group(3) or m.group(4) or m.group(5) or "")
        for m in _ATTR.finditer(tag)
    }


def _token_form(text: str, url: str, field: str) -> tuple[str, dict[str, str | float | bool]]:
    """The form of the delete page that carries the token: where it posts, its fields."""
    for match in _FORM.finditer(text):
        fields: dict[str, str | float | bool] = {
            a["name"]: a.get("value", "")
            for tag in _INPUT.findall(match.group(2))
            if (a := _attrs(tag)).get("name")
        }
        if field in fields:
            action = _attrs(f"<form {match.group(1)}>").get("action") or url
            return urljoin(url, action), fields
    raise LayoutChanged(f"{url} has no form with a {field} (recipe removal.token_field)")
