"""``remove run``: carry out a plan's approved items through the portals, then verify.

The run's rules, each from DESIGN.md's "Acting on findings" and SPEC's "Removing a
user":

* only approved items the practice can remove, each claimed once across every run
  (``agent.services.removals.claims``): two runs of one plan at once split it;
* one sign-in per login, from its stored browser state when it is still good; a
  session that expires mid-run signs in again (a fresh authenticator step, never a
  reused code) and the removal is sent again: a refused session carried nothing out;
* an org is **read first** whenever anything could have changed since the plan (an
  item taken over or failed before, a newer scan): a user it no longer shows is
  verified without a request; a user whose removal is no longer the practice's is
  asked of the client; the last user who can manage the org's users is never removed
  (``agent.crawl.removal_org`` does one org's work);
* each removal is sent as the portal's own page sends it, with the session's CSRF
  token, politely: the crawl's request slots, and a 429's Retry-After. A transient
  fault (5xx, a lost answer) is never a reason to send again: the org is read again,
  and only a user still listed is tried again, a few times at most;
* a refusal (403, 409) makes the item a request to the client, with the portal's
  reason; a 404 means the user is already gone;
* each touched org is then read again, and settled: only that ok scan, no longer
  showing the access, makes an item **verified** (``agent.services.removals.verification``).

A run killed at any instant leaves its items ``running``; after the claim lease
another run takes them over and, reading each org first, never repeats a removal
that was carried out.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from playwright.async_api import async_playwright
from sqlalchemy import Engine
from sqlmodel import col, select

from agent.capture import (
    ScanFailure,
)
from agent.clock import utcnow
from agent.crawl.browser import close_context, launch_browser
from agent.crawl.crawler import ORGS_PER_REQUEST
from agent.crawl.login import LoginSession, open_login, save_storage_state
from agent.crawl.removal_org import OrgRemoval
from agent.crawl.store import CrawlStore
from agent.scrapers.registry import check_recipes
from agent.scrapers.timeouts import use_scrape_timeout
from agent.security.secrets import SecretBox
from agent.services.removals import claims
from agent.services.removals.claims import ClaimedItem
from agent.services.settle import Settled, settle
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin, RemovalItem

if TYPE_CHECKING:
    from playwright.async_api import Browser

#: (event, item id, state) for a live progress display
RunProgress = Callable[[str, int, str], None]


@dataclass(slots=True)
class RemovalRunReport:
    plan_id: int
    claimed: int = 0
    #: final state of each item this run held, by item id
    states: dict[int, str] = field(default_factory=dict)
    orgs_read: int = 0
    requests_sent: int = 0
    sign_ins: int = 0
    crawl_id: int | None = None
    settled: Settled | None = None

    def count(self) -> Counter[str]:
        return Counter(self.states.values())


class RemovalRun:
    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        *,
        settings: Settings,
        concurrency: int = 4,
        progress: RunProgress | None = None,
    ) -> None:
        self.engine = engine
        self.box = box
        self.settings = settings
        self.store = CrawlStore(engine, box)
        self.concurrency = concurrency
        self.progress = progress or (lambda _e, _i, _s: None)
        self._requests = asyncio.Semaphore(concurrency)
        #: orgs worked on at once: more than requests, as in a crawl, so that one org's
        #: database work overlaps another's requests
        self._orgs = asyncio.Semaphore(ORGS_PER_REQUEST * concurrency)
        self._retries: Counter[str] = Counter()
        #: each login's CSRF token, with the sign-in generation it belongs to
        self._csrf: dict[int, tuple[int, str]] = {}
        self.report = RemovalRunReport(plan_id=0)

    async def run(self, plan_id: int, *, browser: Browser | None = None) -> RemovalRunReport:
        """Claim, remove, re-read and settle; see the module docstring."""
        use_scrape_timeout(self.settings.scrape_timeout_s)
        check_recipes(self.settings.recipe_dir)  # a bad recipe is refused before any request
        token = claims.new_claim_token()
        with session_scope(self.engine) as session:
            held = claims.claim_items(
                session, plan_id, token, lease_s=self.settings.removal_claim_lease_s
            )
        report = self.report = RemovalRunReport(plan_id=plan_id, claimed=len(held))
        if not held:
            return report
        crawl = self.store.open_crawl(None, "removal", resumable=False)
        report.crawl_id = crawl.crawl_id
        try:
            if browser is not None:
                await self._run_logins(browser, held, token, report)
            else:
                async with async_playwright() as playwright:
                    own = await launch_browser(playwright, self.settings)
                    try:
                        await self._run_logins(own, held, token, report)
                    finally:
                        await own.close()
        finally:
            crawl.finished_at = utcnow()
            self.store.close_crawl(crawl)
            with session_scope(self.engine) as session:
                report.settled = settle(
                    session, self.settings, org_ids={item.org_pk for item in held}
                )
            self._final_states(held, report)
        return report

    async def _run_logins(
        self, browser: Browser, held: list[ClaimedItem], token: str, report: RemovalRunReport
    ) -> None:
        by_login: dict[int | None, list[ClaimedItem]] = defaultdict(list)
        for item in held:
            by_login[item.login_id].append(item)
        orphans = by_login.pop(None, [])
        if orphans:
            self._fail(orphans, token, "no portal login is known to hold this org")
        await asyncio.gather(
            *(
                self._run_login(browser, login_id, items, token, report)
                for login_id, items in by_login.items()
                if login_id is not None
            )
        )

    async def _run_login(
        self,
        browser: Browser,
        login_id: int,
        items: list[ClaimedItem],
        token: str,
        report: RemovalRunReport,
    ) -> None:
        with session_scope(self.engine) as session:
            row = session.get(PortalLogin, login_id)
            if row is not None:
                session.expunge(row)
        if row is None:
            self._fail(items, token, f"portal login {login_id} no longer exists")
            return
        assert report.crawl_id is not None
        login, fresh = await open_login(
            browser,
            row,
            store=self.store,
            crawl_id=report.crawl_id,
            requests=self._requests,
            retries=self._retries,
        )
        try:
            try:
                await login.sign_in(fresh=fresh)
            except ScanFailure as failure:
                self._fail(items, token, f"could not sign in: {failure.reason}: {failure.detail}")
                return
            by_org: dict[int, list[ClaimedItem]] = defaultdict(list)
            for item in items:
                by_org[item.org_pk].append(item)
            await asyncio.gather(
                *(self._run_org(login, org_items, token) for org_items in by_org.values())
            )
            await save_storage_state(self.store, login)
        finally:
            await close_context(login.context)

    # -- one org ----------------------------------------------------------------------

    async def _run_org(self, login: LoginSession, items: list[ClaimedItem], token: str) -> None:
        async with self._orgs:
            await OrgRemoval(self, login, items, token).run_all()

    # -- what the orgs of one run share ------------------------------------------------

    def csrf_of(self, login: LoginSession) -> str | None:
        """The login's CSRF token for its current session (SPEC: tied to the session)."""
        held = self._csrf.get(login.id)
        return held[1] if held and held[0] == login.generation and held[1] else None

    def keep_csrf(self, login: LoginSession, generation: int, token: str) -> None:
        if token and generation == login.generation:
            self._csrf[login.id] = (generation, token)

    def forget_csrf(self, login: LoginSession) -> None:
        self._csrf.pop(login.id, None)

    def count_sign_in(self) -> None:
        self.report.sign_ins += 1

    def _fail(self, items: list[ClaimedItem], token: str, reason: str) -> None:
        with session_scope(self.engine) as session:
            claims.release(session, [i.id for i in items], token, reason)
        for item in items:
            self.progress("failed", item.id, "failed")

    def _final_states(self, held: list[ClaimedItem], report: RemovalRunReport) -> None:
        with session_scope(self.engine) as session:
            for row in session.exec(
                select(RemovalItem).where(col(RemovalItem.id).in_([i.id for i in held]))
            ):
                report.states[row.id or 0] = row.state
