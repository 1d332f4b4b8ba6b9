"""The worker: runs queued scan requests and removal runs, one Chromium for all of them.

Requests come from the CLI, the API (and so the extension) and the scheduler
through ``agent.crawl.scan_queue``. The worker claims one at a time (the queue never hands
out two crawls of one login at once), crawls what it names, writes progress back
for the server to show, and settles the orgs it scanned (``agent.crawl.pipeline``:
reconcile, then alerts), so a re-scan's result is visible as soon as the request
is done.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from playwright.async_api import async_playwright

from agent.crawl.browser import launch_browser
from agent.crawl.pipeline import crawl_and_settle
from agent.crawl.removal import RemovalRun
from agent.crawl.report import CrawlReport
from agent.crawl.scan_queue import claim_next, finish, on_enqueue, record_progress
from agent.metrics import process as metrics
from agent.runtime import Runtime
from agent.services.removals.runs import finish_run_request, plans_to_run
from agent.storage.db import session_scope
from agent.storage.models import ScanRequest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self, runtime: Runtime, *, poll_s: float = 1.0, browser: Browser | None = None
    ) -> None:
        """``browser``: a Chromium owned by the caller, kept open; else the worker launches one."""
        self.runtime = runtime
        self.poll_s = poll_s
        self._playwright: Playwright | None = None
        self._browser: Browser | None = browser
        self._owns_browser = browser is None

    async def _browser_ready(self) -> Browser:
        if self._browser is None or not self._browser.is_connected():
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            self._browser = await launch_browser(self._playwright, self.runtime.settings)
        return self._browser

    async def close(self) -> None:
        if self._browser is not None and self._owns_browser:
            await self._browser.close()
        self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    async def run_pending(self) -> int:
        """Run every request that can be claimed now, then every removal run asked
        for; returns how many ran."""
        ran = 0
        while True:
            with session_scope(self.runtime.engine) as session:
                request = claim_next(session)
            if request is None:
                break
            await self.run_request(request)
            ran += 1
        with session_scope(self.runtime.engine) as session:
            plans = plans_to_run(session)
        for plan_id in plans:
            await self.run_removals(plan_id)
            ran += 1
        return ran

    async def run_removals(self, plan_id: int) -> None:
        """A removal run the API asked for; the mark is cleared whatever the outcome, and
        an item it could not finish stays failed, to be run again."""
        settings = self.runtime.settings
        run = RemovalRun(
            self.runtime.engine,
            self.runtime.box,
            settings=settings,
            concurrency=settings.crawl_concurrency,
        )
        try:
            await run.run(plan_id, browser=await self._browser_ready())
            metrics.record_removal_run(ok=True)
        except Exception:
            log.exception("removal plan %s could not be run", plan_id)
            metrics.record_removal_run(ok=False)
        finally:
            with session_scope(self.runtime.engine) as session:
                finish_run_request(session, plan_id)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run requests until ``stop``: on each poll, and at once when one is queued here."""
        loop = asyncio.get_running_loop()
        queued = asyncio.Event()
        stop_ringing = on_enqueue(lambda: loop.call_soon_threadsafe(queued.set))
        try:
            while not stop.is_set():
                try:
                    ran = await self.run_pending()
                except Exception:  # a broken request must not stop the queue
                    log.exception("the scan worker failed; it will try again")
                    ran = 0
                if not ran:
                    await self._doze(stop, queued)
        finally:
            stop_ringing()
            await self.close()

    async def _doze(self, stop: asyncio.Event, queued: asyncio.Event) -> None:
        """Wait for the poll interval, a request queued in this process, or ``stop``."""
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(queued.wait())}
        try:
            await asyncio.wait(waits, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        queued.clear()

    async def run_request(self, request: ScanRequest) -> CrawlReport | None:
        assert request.id is not None
        request_id = request.id

        def progress(_event: str, done: int, total: int) -> None:
            with session_scope(self.runtime.engine) as session:
                record_progress(session, request_id, done=done, failed=0, total=total)

        try:
            with metrics.crawl_in_progress():
                crawled = await crawl_and_settle(
                    self.runtime,
                    portal=request.portal,
                    portal_org_id=request.portal_org_id,
                    login_id=request.login_id,
                    trigger=request.source,
                    browser=await self._browser_ready(),
                    progress=progress,
                )
        except Exception as exc:  # a crawl, or its settling, that failed fails the request
            log.warning("scan request %s failed: %s", request_id, exc)
            with session_scope(self.runtime.engine) as session:
                finish(session, request_id, ok=False, detail=str(exc))
            metrics.record_request(ok=False)
            return None
        report = crawled.report
        metrics.record_crawl(
            report.started_at, report.finished_at, ((o.status, o.reason) for o in report.outcomes)
        )
        with session_scope(self.runtime.engine) as session:
            record_progress(
                session,
                request_id,
                done=report.total,
                failed=sum(report.failed.values()),
                total=report.total,
                crawl_id=report.crawl_id,
            )
            failures = ", ".join(f"{n} {reason}" for reason, n in sorted(report.failed.items()))
            logins = "; ".join(
                f"{email}: {reason}" for _p, email, reason, _d in report.login_failures
            )
            finish(
                session,
                request_id,
                ok=not report.failed and not report.login_failures,
                detail="; ".join(x for x in (failures, logins) if x),
            )
        metrics.record_request(ok=not report.failed and not report.login_failures)
        return report
