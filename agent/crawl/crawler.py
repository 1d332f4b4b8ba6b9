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
  exception out of the crawl.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright
from sqlalchemy import Engine, and_, or_
from sqlmodel import Session, col, select
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from agent.capture import (
    Credentials,
    NotListed,
    OrgRef,
    OrgUsers,
    PortalError,
    RateLimited,
    ScanFailure,
    SessionExpired,
    TransientFailure,
)
from agent.clock import utcnow
from agent.crawl.browser import launch_browser
from agent.crawl.circuit import CircuitBreaker
from agent.domain import FailureReason, Portal, ScanStatus
from agent.reconcile.identity import normalise_email
from agent.scrapers.base import Scraper
from agent.scrapers.http import limit_requests, unreachable_detail
from agent.scrapers.registry import scraper_for
from agent.scrapers.timeouts import scrape_timeout_ms, use_scrape_timeout
from agent.security.logins import credentials
from agent.security.secrets import SecretBox
from agent.services.scans import ScanOutcome, record_capture, record_failed_scan, upsert_org_ids
from agent.services.signins import record_sign_in, step_claim
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
#: orgs in flight per request the portals may have in flight (``concurrency``)
ORGS_PER_REQUEST = 2
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
#: A sign-in is a walk of five or six requests, any of which a flaky portal may
#: fail, and a login that cannot sign in reads none of its orgs: it gets more tries
#: than one page read, with short waits between them (Retry-After still holds).
SIGN_IN_ATTEMPTS = 10
SIGN_IN_BACKOFF_MAX_S = 4.0

RUNNING = "running"
FINISHED = "finished"
#: finished, but some orgs failed or were never reached: the next crawl of the same
#: scope, if it starts soon enough, resumes it and reads only those
INCOMPLETE = "incomplete"
RESUME_INCOMPLETE_WITHIN = timedelta(hours=12)
#: failures the portal answered for certain: retried by a resumed crawl like any
#: other, but they do not keep a crawl open (retrying at once would not change them)
SETTLED_REASONS = frozenset({FailureReason.NO_PERMISSION, FailureReason.NOT_LISTED})


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
    #: a crawl of one org (``org_id``): whether any login's list held it, and the
    #: logins whose list did not, as (portal, email)
    org_found: bool | None = None
    not_listed: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list[ScanOutcome] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.ok + self.suspect + sum(self.failed.values())

    @property
    def complete(self) -> bool:
        """Every login signed in and listed, and every failure one a retry would not change."""
        return not self.login_failures and all(
            reason in SETTLED_REASONS for reason, n in self.failed.items() if n
        )


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``(event, done, total)``; event is ``listed``, ``ok`` or ``failed``."""


def _backoff(state: RetryCallState, cap: float = BACKOFF_MAX_S) -> float:
    """Exponential backoff with full jitter, never sooner than the portal's Retry-After."""
    exponential = min(cap, BACKOFF_BASE_S * 2 ** (state.attempt_number - 1))
    wait = random.uniform(0, exponential)
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        wait = max(wait, exc.retry_after)
    return wait


class _LoginSession:
    """One login's browser context and its sign-in, shared by that login's org scans."""

    def __init__(self, row: PortalLogin, creds: Credentials, context: BrowserContext) -> None:
        assert row.id is not None
        self.row = row
        self.id: int = row.id
        self.creds = creds
        self.context = context
        self.scraper: Scraper = scraper_for(creds.portal)
        self.generation = 0
        self.lock = asyncio.Lock()
        #: the last sign-in outcome recorded in this run: (ok, reason)
        self.recorded: tuple[bool, str | None] | None = None
        #: a sign-in walk was tried and failed since the last good one
        self.walk_failed = False

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

    async def sign_in_again(self, seen_generation: int) -> None:
        """Sign in unless another scan already did since ``seen_generation``."""
        async with self.lock:
            if self.generation != seen_generation:
                return
            if not self.walk_failed:  # a retry keeps what the failed try may have got
                await self.context.clear_cookies()
            await guarded(self, self.walk)
            self.generation += 1


async def guarded(login: _LoginSession, call: Callable[[], Awaitable[T]]) -> T:
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
        #: requests to portals in flight, across every login: what the portals feel
        self._requests = asyncio.Semaphore(concurrency)
        #: orgs being read: more than requests, so the browser reads one round of
        #: pages while the next is fetched, instead of each waiting on the other
        self._slots = asyncio.Semaphore(ORGS_PER_REQUEST * concurrency)
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
                "no portal logins to crawl"
                + (f" for portal {portal}" if portal else "")
                + ": add one with 'accessrecon login add'"
            )
        report = self._open_crawl(portal, trigger, resumable=resumable)
        if browser is not None:
            await self._crawl_logins(browser, logins, report, org_id)
        else:
            async with async_playwright() as playwright:
                own = await launch_browser(playwright, self.settings)
                try:
                    await self._crawl_logins(own, logins, report, org_id)
                finally:
                    await own.close()
        if org_id is not None and report.org_found is None and report.not_listed:
            report.org_found = False  # every login that read its list lacked the org
        self._close_crawl(report)
        return report

    async def _crawl_logins(
        self, browser: Browser, logins: list[PortalLogin], report: CrawlReport, org_id: str | None
    ) -> None:
        await asyncio.gather(*(self._crawl_login(browser, row, report, org_id) for row in logins))

    # -- crawl bookkeeping ------------------------------------------------------------

    def _open_crawl(
        self, portal: Portal | str | None, trigger: str, *, resumable: bool
    ) -> CrawlReport:
        """A new crawl, or the one to resume: killed mid-run, or incomplete and recent."""
        with session_scope(self.engine) as session:
            crawl = None
            if resumable:
                recent = utcnow() - RESUME_INCOMPLETE_WITHIN
                crawl = session.exec(
                    select(Crawl)
                    .where(
                        Crawl.portal == (str(portal) if portal else None),
                        Crawl.trigger != "targeted",
                        or_(
                            col(Crawl.status) == RUNNING,
                            and_(col(Crawl.status) == INCOMPLETE, col(Crawl.finished_at) >= recent),
                        ),
                    )
                    .order_by(col(Crawl.started_at).desc(), col(Crawl.id).desc())
                ).first()
            resumed = crawl is not None
            if crawl is None:
                crawl = Crawl(
                    trigger=trigger if resumable else "targeted",
                    portal=str(portal) if portal else None,
                )
            else:
                crawl.status, crawl.finished_at = RUNNING, None
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
            crawl.status = FINISHED if report.complete else INCOMPLETE
            crawl.finished_at = report.finished_at
            session.add(crawl)

    def _already_read(self, crawl_id: int) -> set[int]:
        """Orgs this crawl has read (ok, or held as suspect): a resumed crawl skips them.

        An org whose scans in this crawl all failed is read again, once per run.
        """
        with Session(self.engine) as session:
            return set(
                session.exec(
                    select(Scan.org_id).where(
                        Scan.crawl_id == crawl_id,
                        col(Scan.status).in_((ScanStatus.OK, ScanStatus.SUSPECT)),
                    )
                )
            )

    # -- one login --------------------------------------------------------------------

    async def _crawl_login(
        self, browser: Browser, row: PortalLogin, report: CrawlReport, org_id: str | None
    ) -> None:
        assert row.id is not None
        creds = replace(credentials(row, self.box), claim_step=step_claim(self.engine, row.id))
        state = (
            json.loads(self.box.decrypt(row.storage_state_enc)) if row.storage_state_enc else None
        )
        context = await browser.new_context(storage_state=state)  # type: ignore[arg-type]
        context.set_default_timeout(scrape_timeout_ms())
        limit_requests(context, self._requests)
        login = _LoginSession(row, creds, context)
        try:
            try:
                await self._sign_in(login, report, fresh=state is None)
            except ScanFailure as failure:
                self._fail_known_orgs(login, report, failure, org_id)
                return
            # Orgs are scanned while the rest of the list is still being read. A few
            # workers per login pull from its queue (the shared semaphore bounds the
            # total), so a 10,000-org practice costs a handful of tasks, not 10,000.
            queue: asyncio.Queue[tuple[OrgRef, int] | None] = asyncio.Queue()
            workers = [
                asyncio.create_task(self._drain(login, queue, report))
                for _ in range(ORGS_PER_REQUEST * self.concurrency)
            ]
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
            if isinstance(listing_failure, NotListed):
                self._not_listed(login, report, listing_failure, org_id)
            elif listing_failure is not None:
                # the orgs listed before the failure were scanned; the rest fail with it.
                # Kept as the login's outcome after its re-sign-ins, so it stays the latest.
                self._record_sign_in(
                    login,
                    report,
                    listing_failure,
                    prefix="signed in, but the org list could not be read: ",
                )
                self._fail_known_orgs(
                    login, report, listing_failure, org_id, listed=set(queued.values())
                )
        finally:
            await context.close()

    async def _sign_in(self, login: _LoginSession, report: CrawlReport, *, fresh: bool) -> None:
        """Sign in (or find the stored session still good), and record how it went."""
        base = login.creds.base_url
        try:
            still = not fresh and await self._retrying(
                login, lambda: login.scraper.is_signed_in(login.context, base)
            )
            if not still:
                await self._retrying(login, login.walk, sign_in=True)
                login.generation += 1
        except ScanFailure as failure:
            self._record_sign_in(login, report, failure)
            raise
        self._record_sign_in(
            login,
            report,
            None,
            detail="the stored session was still accepted"
            if still
            else "signed in with password and authenticator code",
        )

    async def _sign_in_again(
        self, login: _LoginSession, report: CrawlReport, generation: int
    ) -> None:
        """A new sign-in after the session expired; recorded when the outcome changed."""
        try:
            await self._retrying(login, lambda: login.sign_in_again(generation), sign_in=True)
        except ScanFailure as failure:
            if login.recorded != (False, failure.reason):
                self._record_sign_in(
                    login, report, failure, prefix="signing in again after the session expired: "
                )
            raise
        if login.recorded != (True, None):
            self._record_sign_in(
                login, report, None, detail="signed in again after the session expired"
            )

    def _record_sign_in(
        self,
        login: _LoginSession,
        report: CrawlReport,
        failure: ScanFailure | None,
        *,
        detail: str = "",
        prefix: str = "",
    ) -> None:
        with session_scope(self.engine) as session:
            record_sign_in(
                session,
                login_id=login.id,
                crawl_id=report.crawl_id,
                ok=failure is None,
                reason=failure.reason if failure else None,
                detail=prefix + (failure.detail if failure else detail),
            )
        login.recorded = (failure is None, failure.reason if failure else None)

    async def _list_orgs(
        self,
        login: _LoginSession,
        queue: asyncio.Queue[tuple[OrgRef, int] | None],
        queued: dict[str, int],
        report: CrawlReport,
        org_id: str | None,
    ) -> None:
        """Queue every org of the login's list for a scan, a page of the list at a time.

        A retried listing (after a transient fault, or a new sign-in when the session
        expired) reads the list from the top again; ``queued`` (portal org id to row
        id) makes sure each org is queued once. Orgs this crawl already scanned (a
        resumed crawl) are counted, not queued.
        """
        done = self._already_read(report.crawl_id)

        async def read_list() -> None:
            pages = login.scraper.org_pages(login.context, login.creds.base_url)
            async with aclosing(pages):
                async for page in pages:
                    fresh = list(
                        {
                            r.portal_org_id: r
                            for r in page
                            if r.portal_org_id not in queued and org_id in (None, r.portal_org_id)
                        }.values()
                    )
                    if fresh:
                        self._queue_listed(login, fresh, queue, queued, done, report)
                    if org_id is not None and org_id in queued:
                        return

        await self._signed_in(login, report, read_list)
        self._save_storage_state(login, await login.context.storage_state())
        if org_id is not None:
            if org_id not in queued:
                raise NotListed(f"org {org_id} is not in this login's org list")
            report.org_found = True

    def _queue_listed(
        self,
        login: _LoginSession,
        refs: list[OrgRef],
        queue: asyncio.Queue[tuple[OrgRef, int] | None],
        queued: dict[str, int],
        done: set[int],
        report: CrawlReport,
    ) -> None:
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

    def _fail_known_orgs(
        self,
        login: _LoginSession,
        report: CrawlReport,
        failure: ScanFailure,
        org_id: str | None,
        listed: set[int] | None = None,
    ) -> None:
        """Fail the scans of the login's known orgs that this crawl has not read.

        Orgs read already (this run, or earlier in a resumed crawl) keep their scan:
        an org is scanned at most once per run, and a good read is never undone.
        """
        # reported by the crawl's report and kept as a sign-in attempt: a log line too
        # would be a second line on the command line's stderr
        log.info("login %s (%s) failed: %s", login.id, login.row.portal, failure.detail)
        report.login_failures.append(
            (login.row.portal, login.row.email, failure.reason, failure.detail)
        )
        skip = (listed or set()) | self._already_read(report.crawl_id)
        self._fail_orgs(login, report, failure, org_id, skip)

    def _not_listed(
        self, login: _LoginSession, report: CrawlReport, failure: NotListed, org_id: str | None
    ) -> None:
        """The org asked for is not in this login's list: its scan fails as ``not_listed``.

        Only when this login is the one that listed it before; another login of the
        same portal may well hold it. Whether any login does is the crawl's verdict.
        """
        report.not_listed.append((login.row.portal, login.row.email))
        self._fail_orgs(login, report, failure, org_id, set())

    def _fail_orgs(
        self,
        login: _LoginSession,
        report: CrawlReport,
        failure: ScanFailure,
        org_id: str | None,
        skip: set[int],
    ) -> None:
        with session_scope(self.engine) as session:
            query = select(Org).where(Org.login_id == login.id)
            if org_id is not None:
                query = query.where(Org.portal_org_id == org_id)
            for org in session.exec(query):
                assert org.id is not None
                if org.id in skip:
                    continue
                outcome = record_failed_scan(
                    session,
                    org_id=org.id,
                    reason=failure.reason,
                    detail=failure.detail,
                    started_at=utcnow(),
                    crawl_id=report.crawl_id,
                    login_id=login.id,
                )
                report.failed[failure.reason] += 1
                report.outcomes.append(outcome)

    # -- one org ----------------------------------------------------------------------

    async def _drain(
        self,
        login: _LoginSession,
        queue: asyncio.Queue[tuple[OrgRef, int] | None],
        report: CrawlReport,
    ) -> None:
        """Scan queued orgs until the listing is over (``None``)."""
        while (item := await queue.get()) is not None:
            await self._scan_org(login, *item, report)

    async def _scan_org(
        self, login: _LoginSession, ref: OrgRef, org_id: int, report: CrawlReport
    ) -> None:
        async with self._slots:
            started = utcnow()
            try:
                result = await self._capture(login, ref, report)
            except ScanFailure as failure:
                with session_scope(self.engine) as session:
                    outcome = record_failed_scan(
                        session,
                        org_id=org_id,
                        reason=failure.reason,
                        detail=failure.detail,
                        started_at=started,
                        crawl_id=report.crawl_id,
                        login_id=login.row.id,
                    )
                report.failed[failure.reason] += 1
                event = "failed"
            else:
                with session_scope(self.engine) as session:
                    outcome = record_capture(
                        session,
                        org_id=org_id,
                        result=result,
                        started_at=started,
                        crawl_id=report.crawl_id,
                        login_id=login.row.id,
                    )
                if outcome.status is ScanStatus.SUSPECT:
                    report.suspect += 1
                else:
                    report.ok += 1
                event = "ok"
            report.outcomes.append(outcome)
            self._done += 1
            self.progress(event, self._done, self._total)

    async def _capture(self, login: _LoginSession, ref: OrgRef, report: CrawlReport) -> OrgUsers:
        breaker = self._breakers.setdefault(login.creds.portal, CircuitBreaker())
        if not breaker.allow():
            raise PortalError(
                f"not tried: {breaker.consecutive_failures} scans in a row failed on this "
                "portal, so the crawler is waiting before it tries again"
            )
        try:
            result = await self._capture_with_sign_in(login, ref, report)
        except TransientFailure:
            breaker.failed()
            raise
        breaker.succeeded()
        return result

    async def _capture_with_sign_in(
        self, login: _LoginSession, ref: OrgRef, report: CrawlReport
    ) -> OrgUsers:
        result = await self._signed_in(
            login,
            report,
            lambda: login.scraper.list_users(login.context, login.creds.base_url, ref),
        )
        _check_viewer_listed(result, login.creds)
        return result

    async def _signed_in(
        self, login: _LoginSession, report: CrawlReport, call: Callable[[], Awaitable[T]]
    ) -> T:
        """``call``, retried; if the session expires, signed in again and called again."""
        sign_ins = 0
        while True:
            generation = login.generation
            try:
                return await self._retrying(login, call)
            except SessionExpired:
                if sign_ins >= MAX_SIGN_INS_PER_ORG:
                    raise
                sign_ins += 1
                self._sign_ins += 1
                await self._sign_in_again(login, report, generation)

    def _count_retry(self, state: RetryCallState) -> None:
        self._retries[_reason_of(state)] += 1

    async def _retrying(
        self, login: _LoginSession, call: Callable[[], Awaitable[T]], *, sign_in: bool = False
    ) -> T:
        """``call`` (guarded), retried with backoff while it fails transiently."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TransientFailure),
            stop=stop_after_attempt(SIGN_IN_ATTEMPTS if sign_in else MAX_ATTEMPTS),
            wait=(lambda state: _backoff(state, SIGN_IN_BACKOFF_MAX_S)) if sign_in else _backoff,
            reraise=True,
            before_sleep=self._count_retry,
        ):
            with attempt:
                return await guarded(login, call)
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
