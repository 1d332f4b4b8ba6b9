"""The crawler: signs in once per login, lists its orgs, captures every org's users.

The crawler owns everything a scraper must not: the browser, the pool of concurrent
work, retries, sessions and storage. Its rules:

* one browser per crawl; one context per login, its storage state kept encrypted
  between runs so a crawl rarely needs a new sign-in (and a new TOTP code);
* at most ``concurrency`` requests to the portals in flight at once, across all
  logins, and twice as many orgs being read (the browser reads one round of pages
  while the next is fetched); a login's orgs are scanned as its list is read, page
  by page, not after the whole list;
* transient faults (5xx, timeouts, 429) are retried with exponential backoff and
  jitter, never sooner than a Retry-After; a rejected password or code never is;
* an expired session signs in again once per expiry, then the org is retried;
* each org's scan is written in its own transaction, so a crawl killed at any
  instant keeps every finished scan, and the next run resumes the unfinished crawl
  with only the orgs it has not scanned;
* a crawl that ended with orgs failed or unread (a login that could not sign in, a
  fault that outlasted its retries) is ``incomplete``: a crawl of the same scope
  started within ``RESUME_INCOMPLETE_WITHIN`` resumes it and reads only those orgs,
  so repeated runs converge instead of reading every org again; an org is read at
  most once per run;
* every sign-in's outcome is kept (``agent.services.signins``), and each TOTP code comes from
  a step claimed in the database, so no two processes ever send the same code;
* a login that cannot sign in fails the scans of the orgs it is known to hold,
  with the reason: nothing is ever recorded as "no users" by mistake; a portal
  that cannot be reached at all is such a failure (``portal_error``), never an
  exception out of the crawl;
* every request keeps its portal's polite limits (``polite``: requests in flight
  and a pace per portal host, slowed by 429s; a daily budget per login, counted in
  the database); a login whose budget is spent leaves its remaining orgs for the
  next day (``budget_spent``, no scan recorded), and the next day's crawl resumes;
* a login a person signs in (``interactive``) is never walked: the crawl uses the
  browser state they left, and when that is missing or refused the login *needs
  sign-in*, its orgs left unscanned for the person (``interactive``).

This module is the engine: the order of that work and its retry and circuit
policy. What it keeps in the database is ``store``'s; one login's context and
sign-in is ``login``'s; the failed scans a failed login leaves are
``login_failures``'s; how often and how long it retries is ``retry``'s.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from playwright.async_api import async_playwright
from sqlalchemy import Engine

from agent.capture import (
    Credentials,
    NotListed,
    OrgRef,
    OrgUsers,
    PortalError,
    ScanFailure,
)
from agent.clock import utcnow
from agent.crawl.browser import close_context, close_pages, launch_browser
from agent.crawl.budgets import CrawlPoliteness
from agent.crawl.circuit import CircuitBreaker
from agent.crawl.gate import BudgetSpent
from agent.crawl.interactive import NeedsSignIn, report_needs_sign_in
from agent.crawl.login import LoginSession, open_login, save_storage_state
from agent.crawl.login_failures import fail_known_orgs, fail_not_listed
from agent.crawl.report import CrawlReport, ProgressCallback
from agent.crawl.store import CrawlStore
from agent.domain import Portal, ScanStatus
from agent.reconcile.identity import normalise_email
from agent.scrapers.json_reader import reads_only_json
from agent.scrapers.recipe_scraper import RecipeScraper
from agent.scrapers.registry import check_recipes
from agent.scrapers.timeouts import use_scrape_timeout
from agent.security.secrets import SecretBox
from agent.settings import Settings
from agent.storage.models import PortalLogin

if TYPE_CHECKING:
    from playwright.async_api import Browser

T = TypeVar("T")

#: orgs in flight per request the portals may have in flight (``concurrency``)
ORGS_PER_REQUEST = 2

#: an org waiting for its scan: its listing, and its row's key (``org_pk``)
Queued = tuple[OrgRef, int]


class Crawler:
    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        *,
        settings: Settings,
        concurrency: int = 4,
        progress: ProgressCallback | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.engine = engine
        self.box = box
        self.store = CrawlStore(engine, box)
        self.settings = settings
        self.concurrency = concurrency
        self.progress = progress or (lambda _event, _done, _total: None)
        #: requests to portals in flight, across every login: what the portals feel
        self._requests = asyncio.Semaphore(concurrency)
        #: orgs being read: more than requests, so the browser reads one round of
        #: pages while the next is fetched, instead of each waiting on the other
        self._slots = asyncio.Semaphore(ORGS_PER_REQUEST * concurrency)
        #: each login's gate (pace, slots, daily budget) and the orgs a budget left
        self._polite = CrawlPoliteness(self.store, settings, self._requests, today=utcnow().date())
        self._breakers: dict[str, CircuitBreaker] = {}
        #: logins whose org list has been read in full
        self._listed: set[int] = set()
        self._retries: Counter[str] = Counter()
        self._sign_ins = 0
        self._done = 0
        self._total = 0

    # -- entry point ------------------------------------------------------------------

    async def run(
        self,
        *,
        portal: Portal | str | None = None,
        portal_org_id: str | None = None,
        login_id: int | None = None,
        trigger: str = "manual",
        browser: Browser | None = None,
        today: date | None = None,
    ) -> CrawlReport:
        """Crawl every login (or one portal's, or one org), resuming an unfinished crawl.

        ``portal_org_id`` is the portal's own id of the one org to crawl.
        A long-running process passes its ``browser`` to keep one Chromium across crawls;
        otherwise the crawl launches its own and closes it when done.
        ``today`` (UTC) is the day whose request budgets the crawl spends.
        """
        # Only a crawl of everything (or of a whole portal) resumes an unfinished one;
        # a targeted re-scan of one org or login always starts its own.
        resumable = portal_org_id is None and login_id is None
        logins = self.store.logins(portal, login_id)
        use_scrape_timeout(self.settings.scrape_timeout_s)
        check_recipes(self.settings.recipe_dir)  # a bad recipe is refused before any request
        if not logins:
            raise ValueError(
                "no portal logins to crawl"
                + (f" for portal {portal}" if portal else "")
                + ": add one with 'accessrecon login add'"
            )
        self._polite = CrawlPoliteness(
            self.store, self.settings, self._requests, today=today or utcnow().date()
        )
        report = self.store.open_crawl(portal, trigger, resumable=resumable)
        if browser is not None:
            await self._crawl_logins(browser, logins, report, portal_org_id)
        else:
            async with async_playwright() as playwright:
                own = await launch_browser(playwright, self.settings)
                try:
                    await self._crawl_logins(own, logins, report, portal_org_id)
                finally:
                    await own.close()
        if portal_org_id is not None and report.org_found is None and report.not_listed:
            report.org_found = False  # every login that read its list lacked the org
        report.finished_at = utcnow()
        report.retries.update(self._retries)
        report.sign_ins = self._sign_ins
        self.store.close_crawl(report)
        return report

    async def _crawl_logins(
        self,
        browser: Browser,
        logins: list[PortalLogin],
        report: CrawlReport,
        portal_org_id: str | None,
    ) -> None:
        await asyncio.gather(
            *(self._crawl_login(browser, row, report, portal_org_id) for row in logins)
        )

    # -- one login --------------------------------------------------------------------

    async def _crawl_login(
        self,
        browser: Browser,
        row: PortalLogin,
        report: CrawlReport,
        portal_org_id: str | None,
    ) -> None:
        gate = self._polite.gate_for(row)
        login, fresh = await open_login(
            browser,
            row,
            store=self.store,
            crawl_id=report.crawl_id,
            requests=self._requests,
            retries=self._retries,
            gate=gate,
        )
        try:
            try:
                gate.budget.check()  # a spent budget walks no sign-in pages
                await login.sign_in(fresh=fresh)
            except BudgetSpent:  # its orgs wait for the next day, unscanned
                self._polite.defer_known(login, report, portal_org_id, set())
                return
            except NeedsSignIn as failure:  # its orgs wait for a person, unscanned
                report_needs_sign_in(login, report, failure)
                return
            except ScanFailure as failure:
                fail_known_orgs(self.store, login, report, failure, portal_org_id)
                return
            await self._close_idle_pages(login)
            # Orgs are scanned while the rest of the list is still being read. A few
            # workers per login pull from its queue (the shared semaphore bounds the
            # total), so a 10,000-org practice costs a handful of tasks, not 10,000.
            queue: asyncio.Queue[Queued | None] = asyncio.Queue()
            workers = [
                asyncio.create_task(self._drain(login, queue, report))
                for _ in range(ORGS_PER_REQUEST * self.concurrency)
            ]
            queued: dict[str, int] = {}
            try:
                try:
                    await self._list_orgs(login, queue, queued, report, portal_org_id)
                    listing_failure: ScanFailure | BudgetSpent | None = None
                except (ScanFailure, BudgetSpent) as failure:
                    listing_failure = failure
                for _ in workers:
                    queue.put_nowait(None)
                await asyncio.gather(*workers)
            except BaseException:
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                raise
            if isinstance(listing_failure, BudgetSpent):  # the unlisted rest: next day
                self._polite.defer_known(login, report, portal_org_id, set(queued.values()))
            elif isinstance(listing_failure, NotListed):
                fail_not_listed(self.store, login, report, listing_failure, portal_org_id)
            elif isinstance(listing_failure, NeedsSignIn):
                report_needs_sign_in(login, report, listing_failure)
            elif listing_failure is not None:
                # the orgs listed before the failure were scanned; the rest fail with it.
                # Kept as the login's outcome after its re-sign-ins, so it stays the latest.
                login.record_sign_in(
                    listing_failure, prefix="signed in, but the org list could not be read: "
                )
                fail_known_orgs(
                    self.store,
                    login,
                    report,
                    listing_failure,
                    portal_org_id,
                    listed=set(queued.values()),
                )
        finally:
            self._polite.close(login, report)
            await close_context(login.context)

    async def _list_orgs(
        self,
        login: LoginSession,
        queue: asyncio.Queue[Queued | None],
        queued: dict[str, int],
        report: CrawlReport,
        portal_org_id: str | None,
    ) -> None:
        """Queue every org of the login's list for a scan, a page of the list at a time.

        A retried listing (after a transient fault, or a new sign-in when the session
        expired) reads the list from the top again; ``queued`` (portal org id to
        ``org_pk``) makes sure each org is queued once. Orgs this crawl already
        scanned (a resumed crawl) are counted, not queued.
        """
        done = self.store.already_read(report.crawl_id)

        async def read_list() -> None:
            pages = login.scraper.org_pages(login.context, login.creds.base_url)
            async with aclosing(pages):
                async for page in pages:
                    fresh = list(
                        {
                            r.portal_org_id: r
                            for r in page
                            if r.portal_org_id not in queued
                            and portal_org_id in (None, r.portal_org_id)
                        }.values()
                    )
                    if fresh:
                        self._queue_listed(login, fresh, queue, queued, done, report)
                    if portal_org_id is not None and portal_org_id in queued:
                        return

        await self._signed_in(login, read_list)
        self._listed.add(login.id)
        await self._close_idle_pages(login)
        await save_storage_state(self.store, login)
        if portal_org_id is not None:
            if portal_org_id not in queued:
                raise NotListed(f"org {portal_org_id} is not in this login's org list")
            report.org_found = True

    def _queue_listed(
        self,
        login: LoginSession,
        refs: list[OrgRef],
        queue: asyncio.Queue[Queued | None],
        queued: dict[str, int],
        done: set[int],
        report: CrawlReport,
    ) -> None:
        org_pks = self.store.upsert_listed(refs, login_pk=login.row.id)
        report.orgs_listed += len(org_pks)
        for ref, org_pk in zip(refs, org_pks, strict=True):
            queued[ref.portal_org_id] = org_pk
            if org_pk in done:
                report.skipped_already_done += 1
            else:
                queue.put_nowait((ref, org_pk))
                self._total += 1
        self.progress("listed", self._done, self._total)

    # -- one org ----------------------------------------------------------------------

    async def _drain(
        self, login: LoginSession, queue: asyncio.Queue[Queued | None], report: CrawlReport
    ) -> None:
        """Scan queued orgs until the listing is over (``None``)."""
        while (item := await queue.get()) is not None:
            await self._scan_org(login, *item, report)

    async def _scan_org(
        self, login: LoginSession, ref: OrgRef, org_pk: int, report: CrawlReport
    ) -> None:
        async with self._slots:
            started = utcnow()
            try:
                result = await self._capture(login, ref)
            except BudgetSpent:  # left for the next day: no scan recorded
                self._polite.defer(login, report)
                self._done += 1
                self.progress("failed", self._done, self._total)
                return
            except NeedsSignIn as failure:  # the org waits for a person, unscanned
                report_needs_sign_in(login, report, failure)
                return
            except ScanFailure as failure:
                outcome = self.store.record_failed(
                    org_pk=org_pk,
                    failure=failure,
                    started_at=started,
                    crawl_id=report.crawl_id,
                    login_pk=login.row.id,
                    recipe=login.scraper.label,
                )
                report.failed[failure.reason] += 1
                event = "failed"
            else:
                outcome = self.store.record_capture(
                    org_pk=org_pk,
                    result=result,
                    started_at=started,
                    crawl_id=report.crawl_id,
                    login_pk=login.row.id,
                )
                if outcome.status is ScanStatus.SUSPECT:
                    report.suspect += 1
                else:
                    report.ok += 1
                event = "ok"
            report.outcomes.append(outcome)
            self._done += 1
            self.progress(event, self._done, self._total)

    async def _capture(self, login: LoginSession, ref: OrgRef) -> OrgUsers:
        breaker = self._breakers.setdefault(login.creds.portal, CircuitBreaker())
        return await breaker.call(lambda: self._capture_with_sign_in(login, ref))

    async def _capture_with_sign_in(self, login: LoginSession, ref: OrgRef) -> OrgUsers:
        result = await self._signed_in(
            login, lambda: login.scraper.list_users(login.context, login.creds.base_url, ref)
        )
        check_viewer_listed(result, login.creds)
        return result

    async def _signed_in(self, login: LoginSession, call: Callable[[], Awaitable[T]]) -> T:
        generation = login.generation
        try:
            return await login.signed_in(call, on_sign_in=self._count_sign_in)
        finally:
            if login.generation != generation:  # signed in again: its page is idle
                await self._close_idle_pages(login)

    async def _close_idle_pages(self, login: LoginSession) -> None:
        """Close the login's pages once nothing left to read needs one: a sign-in
        leaves its page for the first page read, and a login read through its
        portal's JSON reads none (``browser.close_pages``)."""
        scraper = login.scraper
        listing = login.id not in self._listed
        if isinstance(scraper, RecipeScraper) and reads_only_json(scraper.recipe, listing):
            await close_pages(login.context, login.lock)

    def _count_sign_in(self) -> None:
        self._sign_ins += 1


def check_viewer_listed(result: OrgUsers, creds: Credentials) -> None:
    """Every portal lists the viewer; a list without it is not the org's full list."""
    me = normalise_email(creds.email)
    if not any(normalise_email(u.email) == me for u in result.users):
        raise PortalError(
            f"the user list of {result.org.portal_org_id} does not list the agent's own login, "
            "so it cannot be the complete list"
        )


__all__ = ["CrawlReport", "Crawler", "ProgressCallback"]
