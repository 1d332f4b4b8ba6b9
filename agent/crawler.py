"""The crawler: signs in once per login, lists its orgs, captures every org's users.

The crawler owns everything a scraper must not: the browser, the pool of concurrent
work, retries, sessions and storage. Its rules:

* one browser per crawl; one context per login, its storage state kept encrypted
  between runs so a crawl rarely needs a new sign-in (and a new TOTP code);
* at most ``concurrency`` orgs in flight at once, across all logins; a login's
  orgs are scanned as its list is read, page by page, not after the whole list;
* transient faults (5xx, timeouts, 429) are retried with exponential backoff and
  jitter, never sooner than a Retry-After; a rejected password or code never is;
* an expired session signs in again once per expiry, then the org is retried;
* each org's scan is written in its own transaction, so a crawl killed at any
  instant keeps every finished scan, and the next run resumes the unfinished crawl
  with only the orgs it has not scanned;
* a login that cannot sign in fails the scans of the orgs it is known to hold,
  with the reason: nothing is ever recorded as "no users" by mistake.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from playwright.async_api import async_playwright
from sqlalchemy import Engine
from sqlmodel import Session, select
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from agent.browser import launch_browser
from agent.circuit import CircuitBreaker
from agent.clock import utcnow
from agent.domain import Portal, ScanStatus
from agent.logins import credentials
from agent.reconcile.identity import normalise_email
from agent.scans import ScanOutcome, record_capture, record_failed_scan, upsert_org_ids
from agent.scrapers import scraper_for
from agent.scrapers.base import (
    Credentials,
    OrgRef,
    OrgUsers,
    PortalError,
    RateLimited,
    ScanFailure,
    Scraper,
    SessionExpired,
    TransientFailure,
)
from agent.scrapers.timeouts import scrape_timeout_ms, use_scrape_timeout
from agent.secrets import SecretBox
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Org, PortalLogin, Scan

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext
    from tenacity import RetryCallState

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 5
MAX_SIGN_INS_PER_ORG = 2
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0


@dataclass(slots=True)
class CrawlReport:
    crawl_id: int
    resumed: bool
    orgs_listed: int = 0
    skipped_already_done: int = 0
    ok: int = 0
    suspect: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    #: transient faults retried, by reason; and sign-ins after a session expired
    retries: Counter[str] = field(default_factory=Counter)
    sign_ins: int = 0
    #: logins that could not sign in or list their orgs: (portal, email, reason, detail)
    login_failures: list[tuple[str, str, str, str]] = field(default_factory=list)
    outcomes: list[ScanOutcome] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.ok + self.suspect + sum(self.failed.values())


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``(event, done, total)``; event is ``listed``, ``ok`` or ``failed``."""


def _backoff(state: RetryCallState) -> float:
    """Exponential backoff with full jitter, never sooner than the portal's Retry-After."""
    exponential = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (state.attempt_number - 1))
    wait = random.uniform(0, exponential)
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        wait = max(wait, exc.retry_after)
    return wait


class _LoginSession:
    """One login's browser context and its sign-in, shared by that login's org scans."""

    def __init__(self, row: PortalLogin, creds: Credentials, context: BrowserContext) -> None:
        self.row = row
        self.creds = creds
        self.context = context
        self.scraper: Scraper = scraper_for(creds.portal)
        self.generation = 0
        self.lock = asyncio.Lock()

    async def sign_in_again(self, seen_generation: int) -> None:
        """Sign in unless another scan already did since ``seen_generation``."""
        async with self.lock:
            if self.generation != seen_generation:
                return
            await self.context.clear_cookies()
            await self.scraper.sign_in(self.context, self.creds)
            self.generation += 1


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
        self.settings = settings
        self.concurrency = concurrency
        self.progress = progress or (lambda _event, _done, _total: None)
        self._slots = asyncio.Semaphore(concurrency)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._retries: Counter[str] = Counter()
        self._sign_ins = 0
        self._done = 0
        self._total = 0

    # -- entry point ------------------------------------------------------------------

    async def run(
        self,
        *,
        portal: Portal | str | None = None,
        org_id: str | None = None,
        login_id: int | None = None,
        trigger: str = "manual",
        browser: Browser | None = None,
    ) -> CrawlReport:
        """Crawl every login (or one portal's, or one org), resuming an unfinished crawl.

        A long-running process passes its ``browser`` to keep one Chromium across crawls;
        otherwise the crawl launches its own and closes it when done.
        """
        # Only a crawl of everything (or of a whole portal) resumes an unfinished one;
        # a targeted re-scan of one org or login always starts its own.
        resumable = org_id is None and login_id is None
        report = self._open_crawl(portal, trigger, resumable=resumable)
        with Session(self.engine) as session:
            query = select(PortalLogin)
            if portal:
                query = query.where(PortalLogin.portal == str(portal))
            if login_id is not None:
                query = query.where(PortalLogin.id == login_id)
            logins = list(session.exec(query))
        use_scrape_timeout(self.settings.scrape_timeout_s)
        if not logins:
            raise ValueError(
                "no portal logins to crawl" + (f" for portal {portal}" if portal else "")
                + ": add one with 'accessrecon login add'"
            )
        if browser is not None:
            await self._crawl_logins(browser, logins, report, org_id)
        else:
            async with async_playwright() as playwright:
                own = await launch_browser(playwright, self.settings)
                try:
                    await self._crawl_logins(own, logins, report, org_id)
                finally:
                    await own.close()
        self._close_crawl(report)
        return report

    async def _crawl_logins(self, browser: Browser, logins: list[PortalLogin],
                            report: CrawlReport, org_id: str | None) -> None:
        await asyncio.gather(*(self._crawl_login(browser, row, report, org_id) for row in logins))

    # -- crawl bookkeeping ------------------------------------------------------------

    def _open_crawl(self, portal: Portal | str | None, trigger: str, *,
                    resumable: bool) -> CrawlReport:
        with session_scope(self.engine) as session:
            crawl = None
            if resumable:
                crawl = session.exec(
                    select(Crawl).where(
                        Crawl.status == "running",
                        Crawl.portal == (str(portal) if portal else None),
                        Crawl.trigger != "targeted",
                    )
                ).first()
            resumed = crawl is not None
            if crawl is None:
                crawl = Crawl(trigger=trigger if resumable else "targeted",
                              portal=str(portal) if portal else None)
                session.add(crawl)
                session.flush()
            assert crawl.id is not None
            return CrawlReport(crawl_id=crawl.id, resumed=resumed)

    def _close_crawl(self, report: CrawlReport) -> None:
        report.finished_at = utcnow()
        report.retries.update(self._retries)
        report.sign_ins = self._sign_ins
        with session_scope(self.engine) as session:
            crawl = session.get(Crawl, report.crawl_id)
            assert crawl is not None
            crawl.status = "finished"
            crawl.finished_at = report.finished_at
            session.add(crawl)

    def _already_scanned(self, crawl_id: int) -> set[int]:
        with Session(self.engine) as session:
            return set(session.exec(select(Scan.org_id).where(Scan.crawl_id == crawl_id)))

    # -- one login --------------------------------------------------------------------

    async def _crawl_login(
        self, browser: Browser, row: PortalLogin, report: CrawlReport, org_id: str | None
    ) -> None:
        creds = credentials(row, self.box)
        state = json.loads(self.box.decrypt(row.storage_state_enc)) if row.storage_state_enc \
            else None
        context = await browser.new_context(storage_state=state)  # type: ignore[arg-type]
        context.set_default_timeout(scrape_timeout_ms())
        login = _LoginSession(row, creds, context)
        try:
            try:
                await self._sign_in(login, fresh=state is None)
            except ScanFailure as failure:
                self._fail_known_orgs(login, report, failure, org_id)
                return
            # Orgs are scanned while the rest of the list is still being read. A few
            # workers per login pull from its queue (the shared semaphore bounds the
            # total), so a 10,000-org practice costs a handful of tasks, not 10,000.
            queue: asyncio.Queue[tuple[OrgRef, int] | None] = asyncio.Queue()
            workers = [asyncio.create_task(self._drain(login, queue, report))
                       for _ in range(self.concurrency)]
            queued: dict[str, int] = {}
            try:
                try:
                    await self._list_orgs(login, queue, queued, report, org_id)
                    listing_failure = None
                except ScanFailure as failure:
                    listing_failure = failure
                for _ in workers:
                    queue.put_nowait(None)
                await asyncio.gather(*workers)
            except BaseException:
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                raise
            if listing_failure is not None:
                # the orgs listed before the failure were scanned; the rest fail with it
                self._fail_known_orgs(login, report, listing_failure, org_id,
                                      listed=set(queued.values()))
        finally:
            await context.close()

    async def _sign_in(self, login: _LoginSession, *, fresh: bool) -> None:
        base = login.creds.base_url
        if fresh or not await self._retrying(lambda: login.scraper.is_signed_in(
                login.context, base)):
            await self._retrying(lambda: login.scraper.sign_in(login.context, login.creds))
            login.generation += 1

    async def _list_orgs(self, login: _LoginSession,
                         queue: asyncio.Queue[tuple[OrgRef, int] | None],
                         queued: dict[str, int], report: CrawlReport,
                         org_id: str | None) -> None:
        """Queue every org of the login's list for a scan, a page of the list at a time.

        A retried listing (after a transient fault, or a new sign-in when the session
        expired) reads the list from the top again; ``queued`` (portal org id to row
        id) makes sure each org is queued once. Orgs this crawl already scanned (a
        resumed crawl) are counted, not queued.
        """
        done = self._already_scanned(report.crawl_id)

        async def read_list() -> None:
            pages = login.scraper.org_pages(login.context, login.creds.base_url)
            async with aclosing(pages):
                async for page in pages:
                    fresh = list({r.portal_org_id: r for r in page
                                  if r.portal_org_id not in queued
                                  and org_id in (None, r.portal_org_id)}.values())
                    if fresh:
                        self._queue_listed(login, fresh, queue, queued, done, report)
                    if org_id is not None and org_id in queued:
                        return

        await self._signed_in(login, read_list)
        if org_id is not None and org_id not in queued:
            raise PortalError(f"org {org_id} is not in this login's org list")
        self._save_storage_state(login, await login.context.storage_state())

    def _queue_listed(self, login: _LoginSession, refs: list[OrgRef],
                      queue: asyncio.Queue[tuple[OrgRef, int] | None],
                      queued: dict[str, int], done: set[int], report: CrawlReport) -> None:
        with session_scope(self.engine) as session:
            org_ids = upsert_org_ids(session, refs, login_id=login.row.id)
        report.orgs_listed += len(org_ids)
        for ref, oid in zip(refs, org_ids, strict=True):
            queued[ref.portal_org_id] = oid
            if oid in done:
                report.skipped_already_done += 1
            else:
                queue.put_nowait((ref, oid))
                self._total += 1
        self.progress("listed", self._done, self._total)

    def _save_storage_state(self, login: _LoginSession, state: object) -> None:
        with session_scope(self.engine) as session:
            row = session.get(PortalLogin, login.row.id)
            if row is not None:
                row.storage_state_enc = self.box.encrypt(json.dumps(state))
                session.add(row)

    def _fail_known_orgs(self, login: _LoginSession, report: CrawlReport,
                         failure: ScanFailure, org_id: str | None,
                         listed: set[int] | None = None) -> None:
        log.warning("login %s (%s) failed: %s", login.row.id, login.row.portal, failure.detail)
        report.login_failures.append(
            (login.row.portal, login.row.email, failure.reason, failure.detail)
        )
        with session_scope(self.engine) as session:
            query = select(Org).where(Org.login_id == login.row.id)
            if org_id is not None:
                query = query.where(Org.portal_org_id == org_id)
            for org in session.exec(query):
                if listed and org.id in listed:
                    continue
                outcome = record_failed_scan(
                    session, org_id=org.id, reason=failure.reason, detail=failure.detail,
                    started_at=utcnow(), crawl_id=report.crawl_id, login_id=login.row.id,
                )
                report.failed[failure.reason] += 1
                report.outcomes.append(outcome)

    # -- one org ----------------------------------------------------------------------

    async def _drain(self, login: _LoginSession,
                     queue: asyncio.Queue[tuple[OrgRef, int] | None],
                     report: CrawlReport) -> None:
        """Scan queued orgs until the listing is over (``None``)."""
        while (item := await queue.get()) is not None:
            await self._scan_org(login, *item, report)

    async def _scan_org(self, login: _LoginSession, ref: OrgRef, org_id: int,
                        report: CrawlReport) -> None:
        async with self._slots:
            started = utcnow()
            try:
                result = await self._capture(login, ref)
            except ScanFailure as failure:
                with session_scope(self.engine) as session:
                    outcome = record_failed_scan(
                        session, org_id=org_id, reason=failure.reason,
                        detail=failure.detail,
                        started_at=started, crawl_id=report.crawl_id, login_id=login.row.id,
                    )
                report.failed[failure.reason] += 1
                event = "failed"
            else:
                with session_scope(self.engine) as session:
                    outcome = record_capture(
                        session, org_id=org_id, result=result, started_at=started,
                        crawl_id=report.crawl_id, login_id=login.row.id,
                    )
                if outcome.status is ScanStatus.SUSPECT:
                    report.suspect += 1
                else:
                    report.ok += 1
                event = "ok"
            report.outcomes.append(outcome)
            self._done += 1
            self.progress(event, self._done, self._total)

    async def _capture(self, login: _LoginSession, ref: OrgRef) -> OrgUsers:
        breaker = self._breakers.setdefault(login.creds.portal, CircuitBreaker())
        if not breaker.allow():
            raise PortalError(
                f"not tried: {breaker.consecutive_failures} scans in a row failed on this "
                "portal, so the crawler is waiting before it tries again"
            )
        try:
            result = await self._capture_with_sign_in(login, ref)
        except TransientFailure:
            breaker.failed()
            raise
        breaker.succeeded()
        return result

    async def _capture_with_sign_in(self, login: _LoginSession, ref: OrgRef) -> OrgUsers:
        result = await self._signed_in(
            login, lambda: login.scraper.list_users(login.context, login.creds.base_url, ref))
        _check_viewer_listed(result, login.creds)
        return result

    async def _signed_in(self, login: _LoginSession, call: Callable[[], Awaitable[T]]) -> T:
        """``call``, retried; if the session expires, signed in again and called again."""
        sign_ins = 0
        while True:
            generation = login.generation
            try:
                return await self._retrying(call)
            except SessionExpired:
                if sign_ins >= MAX_SIGN_INS_PER_ORG:
                    raise
                sign_ins += 1
                self._sign_ins += 1
                await self._retrying(lambda g=generation: login.sign_in_again(g))

    def _count_retry(self, state: RetryCallState) -> None:
        self._retries[_reason_of(state)] += 1

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TransientFailure),
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=_backoff,
            reraise=True,
            before_sleep=self._count_retry,
        ):
            with attempt:
                return await call()
        raise AssertionError("unreachable")  # pragma: no cover


def _reason_of(state: RetryCallState) -> str:
    exc = state.outcome.exception() if state.outcome else None
    return exc.reason if isinstance(exc, ScanFailure) else "unknown"


def _check_viewer_listed(result: OrgUsers, creds: Credentials) -> None:
    """Every portal lists the viewer; a list without it is not the org's full list."""
    me = normalise_email(creds.email)
    if not any(normalise_email(u.email) == me for u in result.users):
        raise PortalError(
            f"the user list of {result.org.portal_org_id} does not list the agent's own login, "
            "so it cannot be the complete list"
        )


__all__ = ["CrawlReport", "Crawler"]
