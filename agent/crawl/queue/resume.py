"""A queued request's crawl: named on the request as it opens, resumed if run again.

A request is run again when its worker died mid-crawl (procrastinate takes up a job
whose worker stopped beating). The crawl it started is written on the request the
moment it opens, so the second run resumes that same crawl: it reads only the orgs
the first did not finish (``CrawlStore.already_read``), every finished scan is kept
and none is read twice, whichever machine ran which half. The orgs both halves read
are then settled together, since the first half never got to settle its own, in a
thread, so the worker keeps beating while a large reconcile runs.

Otherwise this is ``agent.crawl.pipeline.crawl_and_settle``: crawl, then settle.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import select

from agent.crawl.crawler import Crawler
from agent.crawl.pipeline import CrawledAndSettled
from agent.crawl.report import CrawlReport, ProgressCallback
from agent.crawl.store import RUNNING, CrawlStore
from agent.domain import Portal
from agent.runtime import Runtime
from agent.security.secrets import SecretBox
from agent.services.settle import Settled, settle
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Scan, ScanRequest

if TYPE_CHECKING:
    from playwright.async_api import Browser


class RequestCrawlStore(CrawlStore):
    """The crawl store of one scan request: its crawl is the request's."""

    def __init__(self, engine: Engine, box: SecretBox, request_id: int) -> None:
        super().__init__(engine, box)
        self.request_id = request_id

    def open_crawl(
        self, portal: Portal | str | None, trigger: str, *, resumable: bool
    ) -> CrawlReport:
        with session_scope(self.engine) as session:
            request = session.get(ScanRequest, self.request_id)
            crawl = session.get(Crawl, request.crawl_id) if request and request.crawl_id else None
            if crawl is not None:
                assert crawl.id is not None
                crawl.status, crawl.finished_at = RUNNING, None
                session.add(crawl)
                return CrawlReport(crawl_id=crawl.id, resumed=True)
        report = super().open_crawl(portal, trigger, resumable=resumable)
        with session_scope(self.engine) as session:
            request = session.get(ScanRequest, self.request_id)
            if request is not None:
                request.crawl_id = report.crawl_id
                session.add(request)
        return report


class RequestCrawler(Crawler):
    """A crawler whose crawl is the scan request's (``RequestCrawlStore``)."""

    def __init__(self, engine: Engine, box: SecretBox, *, request_id: int, **options: Any) -> None:
        super().__init__(engine, box, **options)
        self.store = RequestCrawlStore(engine, box, request_id)


async def crawl_request(
    runtime: Runtime,
    request: ScanRequest,
    *,
    through_login: int | None = None,
    browser: Browser | None = None,
    progress: ProgressCallback | None = None,
) -> CrawledAndSettled:
    """Crawl what ``request`` names (through ``through_login`` when given), resuming
    its crawl if it has one, then settle in one transaction."""
    assert request.id is not None
    settings = runtime.settings
    crawler = RequestCrawler(
        runtime.engine,
        runtime.box,
        request_id=request.id,
        settings=settings,
        concurrency=settings.crawl_concurrency,
        progress=progress,
    )
    report = await crawler.run(
        portal=request.portal,
        portal_org_id=request.portal_org_id,
        login_id=request.login_id if request.login_id is not None else through_login,
        trigger=request.source,
        browser=browser,
    )
    scanned = {o.org_id for o in report.outcomes}

    def settle_scanned() -> Settled:
        with session_scope(runtime.engine) as session:
            if report.resumed:
                scanned.update(
                    session.exec(select(Scan.org_id).where(Scan.crawl_id == report.crawl_id))
                )
            return settle(session, settings, org_ids=scanned)

    # in a thread: a reconcile of thousands of orgs takes seconds, and the worker's
    # heartbeat, on this event loop, must not miss a beat meanwhile
    settled = await asyncio.to_thread(settle_scanned)
    return CrawledAndSettled(report=report, settled=settled)
