"""The one interface every portal scraper implements.

A scraper knows a portal's pages and JSON, nothing else: it never launches a
browser, never touches the database and never decides what a user means. The
crawler hands it a Playwright ``BrowserContext`` (one per login) and stores the
``OrgUsers`` it returns (``agent.capture``); reconcile judges them. A scraper that
cannot prove an org's user list raises a ``ScanFailure`` instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Protocol

from agent.capture import Credentials, OrgRef, OrgUsers
from agent.domain import Portal

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


class Scraper(Protocol):
    """A portal's pages, read. One instance serves every login of its portal."""

    @property
    def portal(self) -> Portal: ...

    @property
    def label(self) -> str:
        """What read the portal (its recipe and version), recorded on every scan."""
        ...

    async def sign_in(self, context: BrowserContext, credentials: Credentials) -> None:
        """Sign in with password and TOTP; raise a ``SignInFailure`` if refused."""
        ...

    async def is_signed_in(self, context: BrowserContext, base_url: str) -> bool:
        """Whether the context's stored session is still accepted by the portal."""
        ...

    def org_pages(
        self, context: BrowserContext, base_url: str
    ) -> AsyncGenerator[Sequence[OrgRef], None]:
        """Every org the signed-in login can see, a page of the portal's list at a time.

        A page at a time so that the crawler can scan the first orgs of a long list
        while the rest of it is read. A failure on any page raises, as ever.
        """
        ...

    async def list_users(self, context: BrowserContext, base_url: str, org: OrgRef) -> OrgUsers:
        """The org's complete user list, or a ``ScanFailure``."""
        ...


async def all_orgs(scraper: Scraper, context: BrowserContext, base_url: str) -> list[OrgRef]:
    """The login's whole org list, each org once, in the portal's order."""
    orgs: dict[str, OrgRef] = {}
    async with aclosing(scraper.org_pages(context, base_url)) as pages:
        async for page in pages:
            for ref in page:
                orgs.setdefault(ref.portal_org_id, ref)
    return list(orgs.values())
