"""One login's part of a crawl: its browser context, its sign-in, and signing in again.

Every org scan of a login shares one context and so one sign-in; when the session
expires, the first scan to notice signs in again and the others wait on it rather
than each spending an authenticator code. This is that shared state, its lock, and
the record of how each sign-in went, kept apart from the engine that schedules the
scans.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from playwright.async_api import Error as PlaywrightError

from agent.capture import Credentials, PortalError, PortalTimeout, ScanFailure, SessionExpired
from agent.crawl.gate import LoginGate
from agent.crawl.interactive import SESSION_ENDED, needs_sign_in, use_stored_sign_in
from agent.crawl.retry import MAX_SIGN_INS_PER_ORG, retrying
from agent.crawl.store import CrawlStore
from agent.scrapers.base import Scraper
from agent.scrapers.http import limit_requests, unreachable_detail
from agent.scrapers.registry import scraper_for
from agent.scrapers.request_session import cookies_changed
from agent.scrapers.timeouts import answered_within, scrape_timeout_ms
from agent.security.logins import SignInMethod
from agent.storage.models import PortalLogin

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext

T = TypeVar("T")

log = logging.getLogger(__name__)


class LoginSession:
    """One login's browser context and its sign-in, shared by that login's org scans."""

    def __init__(
        self,
        row: PortalLogin,
        creds: Credentials,
        context: BrowserContext,
        *,
        store: CrawlStore,
        crawl_id: int,
        retries: Counter[str],
    ) -> None:
        assert row.id is not None
        self.row = row
        self.id: int = row.id
        self.creds = creds
        self.context = context
        self.scraper: Scraper = scraper_for(creds.portal)
        self.store = store
        self.crawl_id = crawl_id
        #: the crawler's count of transient faults retried, by reason
        self.retries = retries
        self.generation = 0
        self.lock = asyncio.Lock()
        #: the last sign-in outcome recorded in this run: (ok, reason)
        self.recorded: tuple[bool, str | None] | None = None
        #: a sign-in walk was tried and failed since the last good one
        self.walk_failed = False
        #: a person signs it in (``agent.crawl.interactive``): never walked here
        self.interactive = row.sign_in_method == SignInMethod.INTERACTIVE

    async def retrying(self, call: Callable[[], Awaitable[T]], *, sign_in: bool = False) -> T:
        """``call`` (guarded), retried with backoff while it fails transiently."""
        return await retrying(lambda: guarded(self, call), retries=self.retries, sign_in=sign_in)

    async def signed_in(
        self, call: Callable[[], Awaitable[T]], *, on_sign_in: Callable[[], None] | None = None
    ) -> T:
        """``call``, retried; if the session expires, signed in again (at most
        ``MAX_SIGN_INS_PER_ORG`` times, ``on_sign_in`` told of each) and called again."""
        sign_ins = 0
        while True:
            generation = self.generation
            try:
                return await self.retrying(call)
            except SessionExpired:
                if sign_ins >= MAX_SIGN_INS_PER_ORG:
                    raise
                if self.interactive:  # nothing to sign in with: only a person can
                    raise needs_sign_in(self, SESSION_ENDED) from None
                sign_ins += 1
                if on_sign_in is not None:
                    on_sign_in()
                await self.sign_in_again(generation)

    async def sign_in(self, *, fresh: bool) -> None:
        """Sign in (or find the stored session still good), and record how it went."""
        if self.interactive:
            await use_stored_sign_in(self, fresh=fresh)
            return
        base = self.creds.base_url
        try:
            still = not fresh and await self.retrying(
                lambda: self.scraper.is_signed_in(self.context, base)
            )
            if not still:
                await self.retrying(self.walk, sign_in=True)
                self.generation += 1
        except ScanFailure as failure:
            self.record_sign_in(failure)
            raise
        self.record_sign_in(
            None,
            detail="the stored session was still accepted"
            if still
            else "signed in with password and authenticator code",
        )

    async def sign_in_again(self, generation: int) -> None:
        """A new sign-in after the session expired; recorded when the outcome changed."""
        if self.interactive:
            raise needs_sign_in(self, SESSION_ENDED)
        try:
            await self.retrying(lambda: self._walk_again(generation), sign_in=True)
        except ScanFailure as failure:
            if self.recorded != (False, failure.reason):
                self.record_sign_in(failure, prefix="signing in again after the session expired: ")
            raise
        if self.recorded != (True, None):
            self.record_sign_in(None, detail="signed in again after the session expired")

    def record_sign_in(
        self, failure: ScanFailure | None, *, detail: str = "", prefix: str = ""
    ) -> None:
        """Keep the sign-in's outcome, and remember it as this run's latest."""
        self.store.record_sign_in(
            login_pk=self.id,
            crawl_id=self.crawl_id,
            ok=failure is None,
            reason=failure.reason if failure else None,
            detail=prefix + (failure.detail if failure else detail),
        )
        self.recorded = (failure is None, failure.reason if failure else None)

    async def walk(self) -> None:
        """One try at signing in; a retry first asks whether the failed try got in.

        A fault can strike after the portal accepted the code (its answer lost, the
        landing page a 5xx): the session is then good, and walking again would spend
        another authenticator step for nothing.
        """
        if self.walk_failed and await self.scraper.is_signed_in(self.context, self.creds.base_url):
            self.walk_failed = False
            return
        self.walk_failed = True
        await self.scraper.sign_in(self.context, self.creds)
        self.walk_failed = False

    async def _walk_again(self, seen_generation: int) -> None:
        """Sign in unless another scan already did since ``seen_generation``."""
        async with self.lock:
            if self.generation != seen_generation:
                return
            if not self.walk_failed:  # a retry keeps what the failed try may have got
                await answered_within(self.context.clear_cookies(), "cookies cleared")
                cookies_changed(self.context)
            await guarded(self, self.walk)
            self.generation += 1


async def open_login(
    browser: Browser,
    row: PortalLogin,
    *,
    store: CrawlStore,
    crawl_id: int,
    requests: asyncio.Semaphore,
    retries: Counter[str],
    gate: LoginGate | None = None,
) -> tuple[LoginSession, bool]:
    """The login's context, from its stored browser state if it has one, its requests
    holding the crawl-wide ``requests`` slots (or passing its ``gate``, which holds
    them, and the pages its browser loads too); and whether it starts with no state."""
    creds = store.credentials(row)
    state = store.storage_state(row)
    context = await answered_within(browser.new_context(storage_state=state), "a new context")
    context.set_default_timeout(scrape_timeout_ms())
    limit_requests(context, gate if gate is not None else requests)
    if gate is not None:
        await gate.watch_pages(context)
    login = LoginSession(row, creds, context, store=store, crawl_id=crawl_id, retries=retries)
    return login, state is None


async def save_storage_state(store: CrawlStore, login: LoginSession) -> None:
    """Keep the login's session for the next crawl to start signed in. A browser that
    does not hand it over in time costs the next crawl a sign-in, nothing more."""
    try:
        state = await answered_within(login.context.storage_state(), "the session's state")
    except (PortalTimeout, PlaywrightError) as exc:
        log.warning("the session of login %s was not kept: %s", login.id, exc)
        return
    store.save_storage_state(login.id, state)


async def guarded(login: LoginSession, call: Callable[[], Awaitable[T]]) -> T:
    """``call``, with any raw browser error turned into the typed failure it stands for.

    Scrapers type the failures they expect; an error they did not (a portal that
    refuses connections where a scraper asks the browser directly) must still end
    as a failed scan or sign-in with a reason, never as an exception out of the crawl.
    """
    try:
        return await call()
    except PlaywrightError as exc:
        base = login.creds.base_url
        detail = (
            unreachable_detail(base, exc)
            or f"{base}: {(str(exc).splitlines() or [type(exc).__name__])[0]}"
        )
        raise PortalError(detail) from exc
