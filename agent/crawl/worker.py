"""The worker: runs queued scan requests and removal runs, one Chromium for all of them.

Requests come from the CLI, the API (and so the extension) and the scheduler
through ``agent.crawl.scan_queue``; which queue hands them out follows the database
(``agent.crawl.queue``): the in-process queue on SQLite, procrastinate jobs on
PostgreSQL, where any number of workers share the work. Either way a worker runs
one request at a time (never two crawls of one login at once), crawls what it
names, writes progress back for the server to show, and settles the orgs it
scanned (reconcile, then alerts), so a re-scan's result is visible as soon as the
request is done. A request run again after its worker died resumes its crawl
(``agent.crawl.queue.resume``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from playwright.async_api import async_playwright

from agent.crawl.browser import launch_browser
from agent.crawl.queue import queue_for
from agent.crawl.queue.resume import crawl_request
from agent.crawl.removal import RemovalRun
from agent.crawl.report import CrawlReport
from agent.crawl.scan_queue import finish, record_progress
from agent.metrics import process as metrics
from agent.runtime import Runtime
from agent.services.removals.runs import finish_run_request
from agent.storage.db import session_scope
from agent.storage.models import ScanRequest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

log = logging.getLogger(__name__)

#: how often a running request's progress is written for the server to show
PROGRESS_EVERY_S = 0.5


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
        """Run every request that can run now, then every removal run asked for;
        returns how many ran."""
        return await queue_for(self.runtime.engine).run_pending(self)

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
        """Run requests as they come until ``stop``, then close the browser."""
        try:
            await queue_for(self.runtime.engine).run_forever(self, stop)
        finally:
            await self.close()

    async def run_request(
        self, request: ScanRequest, *, through_login: int | None = None
    ) -> CrawlReport | None:
        """Crawl what ``request`` names (an org through ``through_login`` when given),
        then finish it: done, or failed with what failed."""
        assert request.id is not None
        request_id = request.id

        written = float("-inf")

        def progress(_event: str, done: int, total: int) -> None:
            nonlocal written
            if time.monotonic() - written < PROGRESS_EVERY_S and done < total:
                return  # a write per org would cost the crawl more than the page shows
            written = time.monotonic()
            with session_scope(self.runtime.engine) as session:
                record_progress(session, request_id, done=done, failed=0, total=total)

        try:
            with metrics.crawl_in_progress():
                crawled = await crawl_request(
                    self.runtime,
                    request,
                    through_login=through_login,
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
        read = report.total + report.skipped_already_done  # a resumed crawl's first half too
        with session_scope(self.runtime.engine) as session:
            record_progress(
                session,
                request_id,
                done=read,
                failed=sum(report.failed.values()),
                total=read,
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
