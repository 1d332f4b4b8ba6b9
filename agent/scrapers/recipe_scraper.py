"""A portal's scraper made from its recipe: the shared mechanics, given the portal's data.

Every portal is read the same few ways (``json_reader``, ``page_reader``, the sign-in
walk of ``signin``); which way, and with which paths, labels, headers and keys, is the
recipe's to say. So there is one scraper class, and a changed portal is a changed
recipe. The result of every read carries the recipe's label (``xero@2026.12.1``), which
the crawl records on the scan.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from agent.capture import Credentials, OrgRef, OrgUsers, SessionExpired
from agent.domain import Portal
from agent.scrapers import json_reader, page_reader
from agent.scrapers.http import get_json, session_alive
from agent.scrapers.recipe import JsonOrgs, JsonUsers, LinkOrgs, TableOrgs
from agent.scrapers.recipe_book import LoadedRecipe
from agent.scrapers.signin import SignInPages, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


def sign_in_pages_of(loaded: LoadedRecipe) -> SignInPages:
    s = loaded.recipe.sign_in
    return SignInPages(
        path=s.path,
        email_label=s.email_label,
        password_label=s.password_label,
        password_button=s.password_button,
        wrong_password=s.wrong_password,
        code_label=s.code_label,
        code_button=s.code_button,
        landing=s.landing,
        identifier_button=s.identifier_button,
        wrong_code=s.wrong_code,
    )


class RecipeScraper:
    """Reads one portal as its recipe says (``base.Scraper``)."""

    def __init__(self, loaded: LoadedRecipe) -> None:
        self.loaded = loaded
        self.recipe = loaded.recipe
        self.portal: Portal = loaded.recipe.portal
        self.sign_in_pages = sign_in_pages_of(loaded)

    @property
    def label(self) -> str:
        return self.loaded.label

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        await sign_in(context, credentials, self.sign_in_pages)

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        check = self.recipe.session
        url = f"{base_url}{check.path}"
        if not check.json_:
            return await session_alive(context, url)
        try:
            await get_json(context, url)
        except SessionExpired:
            return False
        return True

    async def org_pages(
        self, context: BrowserContext, base_url: str
    ) -> AsyncGenerator[Sequence[OrgRef], None]:
        spec = self.recipe.orgs
        if isinstance(spec, JsonOrgs):
            yield await json_reader.read_orgs(context, base_url, self.portal, spec)
        elif isinstance(spec, LinkOrgs):
            yield await page_reader.link_orgs(
                context,
                base_url,
                self.portal,
                spec,
                sign_in_path=self.recipe.sign_in.path,
                no_permission=self.recipe.texts.no_permission,
            )
        elif isinstance(spec, TableOrgs):
            pages = page_reader.table_orgs(
                context, base_url, self.portal, spec, self.recipe.texts.no_permission
            )
            async for page in pages:
                yield page

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        spec = self.recipe.users
        if isinstance(spec, JsonUsers):
            read = await json_reader.read_users(context, base_url, org, spec, self.recipe.values)
        else:
            read = await page_reader.paged_users(
                context,
                base_url,
                self.portal,
                org,
                spec,
                self.recipe.values,
                self.recipe.texts.no_permission,
            )
        return replace(read, recipe=self.label)
