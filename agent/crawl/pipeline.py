"""Crawl, then settle: the one path from a crawl to findings and alerts.

The worker (queued re-scans and scheduled crawls), ``accessrecon scan`` and the demo
all run a crawl this way, so none of them can reconcile without alerting or alert
on findings it has not reconciled. A crawl that raises settles nothing; one that
finished with failed orgs still settles, since the orgs it did read are evidence
(failed scans are never applied, so they resolve nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.crawl.crawler import Crawler
from agent.crawl.report import CrawlReport, ProgressCallback
from agent.domain import Portal
from agent.runtime import Runtime
from agent.services.settle import Settled, settle
from agent.storage.db import session_scope

if TYPE_CHECKING:
    from playwright.async_api import Browser


@dataclass(frozen=True, slots=True)
class CrawledAndSettled:
    report: CrawlReport
    settled: Settled


async def crawl_and_settle(
    runtime: Runtime,
    *,
    portal: Portal | str | None = None,
    portal_org_id: str | None = None,
    login_id: int | None = None,
    trigger: str = "manual",
    browser: Browser | None = None,
    concurrency: int | None = None,
    progress: ProgressCallback | None = None,
    every_org: bool = False,
) -> CrawledAndSettled:
    """Crawl as ``Crawler.run`` does, then settle in one transaction.

    Settles the orgs the crawl scanned, or with ``every_org`` every org: a command
    run by a person after changing the roster expects every org judged against it,
    while a queued re-scan of one org must not cost a reconcile of the whole practice.
    """
    settings = runtime.settings
    crawler = Crawler(
        runtime.engine,
        runtime.box,
        settings=settings,
        concurrency=concurrency or settings.crawl_concurrency,
        progress=progress,
    )
    report = await crawler.run(
        portal=portal,
        portal_org_id=portal_org_id,
        login_id=login_id,
        trigger=trigger,
        browser=browser,
    )
    scanned = None if every_org else {o.org_id for o in report.outcomes}
    with session_scope(runtime.engine) as session:
        settled = settle(session, settings, org_ids=scanned)
    return CrawledAndSettled(report=report, settled=settled)
