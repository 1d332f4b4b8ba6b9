"""The three ways of reading a portal that the crawl benchmark compares.

* ``ours``: the product's crawler, as ``accessrecon scan`` runs it;
* ``bare``: a plain HTTP client with the crawler's session cookies fetching the same
  data at the same concurrency — the most the portal itself can serve here;
* ``naive``: a new page per org, rendering the users page and reading its DOM, the
  way a first-draft browser scraper would.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass

import httpx
from playwright.async_api import Browser, async_playwright

from agent.crawl.browser import launch_args
from agent.crawl.crawler import Crawler
from agent.runtime import Runtime
from agent.storage.models import PortalLogin

RANGE = re.compile(r"(\d+)-(\d+) of (\d+)")


@dataclass(frozen=True)
class Rate:
    orgs: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.orgs / self.seconds if self.seconds else 0.0


async def ours(runtime: Runtime, portal: str, concurrency: int, browser: Browser) -> Rate:
    crawler = Crawler(
        runtime.engine, runtime.box, settings=runtime.settings, concurrency=concurrency
    )
    started = time.perf_counter()
    report = await crawler.run(portal=portal, browser=browser)
    elapsed = time.perf_counter() - started
    if report.failed:
        raise RuntimeError(f"the benchmark crawl had failures: {dict(report.failed)}")
    return Rate(report.ok, elapsed)


def session_cookies(runtime: Runtime, login: PortalLogin) -> list[dict[str, object]]:
    assert login.storage_state_enc is not None
    state = json.loads(runtime.box.decrypt(login.storage_state_enc))
    return list(state["cookies"])


async def bare(
    portal: str,
    base_url: str,
    cookies: list[dict[str, object]],
    org_ids: list[str],
    concurrency: int,
) -> Rate:
    jar = httpx.Cookies()
    for cookie in cookies:
        jar.set(str(cookie["name"]), str(cookie["value"]), domain=str(cookie["domain"]))
    limits = httpx.Limits(max_connections=concurrency)
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, cookies=jar, limits=limits, timeout=30
    ) as client:

        async def fetch(org_id: str) -> None:
            async with slots:
                if portal == "xero":
                    r = await client.get(
                        f"/api/orgs/{org_id}/users", headers={"Accept": "application/json"}
                    )
                    r.raise_for_status()
                    r.json()
                elif portal == "myob":
                    page, seen, total = 1, 0, 1
                    while seen < total:
                        r = await client.get(
                            f"/api/businesses/{org_id}/users", params={"page": page, "pageSize": 50}
                        )
                        r.raise_for_status()
                        body = r.json()
                        seen, total, page = seen + len(body["items"]), body["total"], page + 1
                else:
                    for tab in ("users", "firms"):
                        page, last, total = 1, 0, 1
                        while last < total:
                            r = await client.get(
                                f"/app/company/{org_id}/manageusers",
                                params={"tab": tab, "page": page},
                            )
                            r.raise_for_status()
                            match = RANGE.search(r.text)
                            if match is None:
                                break
                            last, total, page = int(match[2]), int(match[3]), page + 1

        started = time.perf_counter()
        await asyncio.gather(*(fetch(o) for o in org_ids))
        return Rate(len(org_ids), time.perf_counter() - started)


async def naive(
    portal: str,
    base_url: str,
    storage_state: dict[str, object],
    org_ids: list[str],
    concurrency: int,
    runtime: Runtime,
) -> Rate:
    """A new page per org, the users page rendered in full and read from the DOM."""
    slots = asyncio.Semaphore(concurrency)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_args(runtime.settings))  # type: ignore[arg-type]
        context = await browser.new_context(storage_state=storage_state)  # type: ignore[arg-type]

        async def read(org_id: str) -> None:
            async with slots:
                page = await context.new_page()
                try:
                    if portal == "xero":
                        await page.goto(
                            f"{base_url}/app/{org_id}/settings/users", wait_until="load"
                        )
                        await page.get_by_role("row").nth(1).wait_for()
                        await page.get_by_role("row").all_inner_texts()
                    elif portal == "myob":
                        await page.goto(f"{base_url}/business/{org_id}/users", wait_until="load")
                        await page.get_by_role("article").first.wait_for()
                        await page.get_by_role("article").all_inner_texts()
                    else:
                        for tab in ("users", "firms"):
                            await page.goto(
                                f"{base_url}/app/company/{org_id}/manageusers?tab={tab}",
                                wait_until="load",
                            )
                            await page.get_by_role("row").all_inner_texts()
                finally:
                    await page.close()

        started = time.perf_counter()
        await asyncio.gather(*(read(o) for o in org_ids))
        elapsed = time.perf_counter() - started
        await browser.close()
        return Rate(len(org_ids), elapsed)
