"""A crawl's memory stays bounded: no page held where none is read, heaps capped.

A login read through its portal's JSON closes its pages once signed in (and again
after each sign-in), a login whose org list is read from pages closes them once the
list is read, and one whose users are read from pages keeps its reading page.
Playwright's driver and each renderer run with a bounded heap (``agent.crawl.browser``).
"""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from agent.crawl.browser import DRIVER_HEAP_MB, RENDERER_HEAP_MB, bound_driver_heap, launch_browser
from agent.crawl.crawler import Crawler
from agent.crawl.report import CrawlReport
from agent.runtime import Runtime
from sandbox.generate import generate_world
from tests.browser_loop import BrowserLoop
from tests.test_crawl_faults import Portals

pytestmark = pytest.mark.browser


def crawl_counting_pages(
    runtime: Runtime, browser_loop: BrowserLoop, portal: str, concurrency: int = 4
) -> tuple[CrawlReport, list[int]]:
    """Crawl one portal; the pages open in the crawl's contexts as each org is read."""
    pages: list[int] = []

    async def work(browser: Browser) -> CrawlReport:
        before = set(browser.contexts)

        def progress(event: str, _done: int, _total: int) -> None:
            if event != "listed":
                crawl = [c for c in browser.contexts if c not in before]
                pages.append(sum(len(c.pages) for c in crawl))

        crawler = Crawler(runtime.engine, runtime.box, settings=runtime.settings, progress=progress)
        return await crawler.run(portal=portal, browser=browser)

    return browser_loop.run(work, timeout=300), pages


def test_a_login_read_through_json_holds_no_page_and_one_read_from_pages_keeps_one(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    world = generate_world(23, staff=8, orgs_per_portal=6, users_per_org=4)
    with ExitStack() as stack:
        Portals(world, runtime, stack)
        # xero: org list and users are JSON; the sign-in's page is closed before any read
        report, pages = crawl_counting_pages(runtime, browser_loop, "xero")
        assert report.ok == 6
        assert pages == [0] * 6
        # myob: the org list is read from a page, the users from JSON
        report, pages = crawl_counting_pages(runtime, browser_loop, "myob")
        assert report.ok == 6
        assert pages[-1] == 0
        # qbo: users are read from pages: the reading page stays for the next org
        report, pages = crawl_counting_pages(runtime, browser_loop, "qbo")
        assert report.ok == 6
        assert pages[-1] >= 1


def test_a_json_login_signed_in_again_mid_crawl_closes_that_sign_ins_page(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    world = generate_world(29, staff=8, orgs_per_portal=6, users_per_org=4, portals=("xero",))
    with ExitStack() as stack:
        portals = Portals(world, runtime, stack)
        # one request at a time, so each new session lasts an org or two
        portals.set(session_expiry_requests=6)
        report, pages = crawl_counting_pages(runtime, browser_loop, "xero", concurrency=1)
    assert report.ok == 6, (report.failed, report.login_failures)
    assert report.sign_ins >= 1, "the session expired and was signed in again"
    assert pages[-1] == 0


def test_bound_driver_heap_adds_a_limit_unless_one_is_set() -> None:
    env = {"NODE_OPTIONS": "--enable-source-maps"}
    bound_driver_heap(env)
    assert env["NODE_OPTIONS"] == f"--enable-source-maps --max-old-space-size={DRIVER_HEAP_MB}"
    own = {"NODE_OPTIONS": "--max-old-space-size=512"}
    bound_driver_heap(own)
    assert own == {"NODE_OPTIONS": "--max-old-space-size=512"}
    empty: dict[str, str] = {}
    bound_driver_heap(empty)
    assert empty == {"NODE_OPTIONS": f"--max-old-space-size={DRIVER_HEAP_MB}"}


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.extend(children.get(pid, []))
        stack.extend(children.get(pid, []))
    return found


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_bytes().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return []


def _environ(pid: int) -> dict[str, str]:
    try:
        entries = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return {}
    return dict(e.split("=", 1) for e in entries.split("\0") if "=" in e)


def test_the_driver_and_the_renderers_run_with_bounded_heaps(runtime: Runtime) -> None:
    """The driver this process starts and the browser the crawl launches, as running."""

    async def launch_and_look() -> tuple[list[dict[str, str]], list[list[str]]]:
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, runtime.settings)
            try:
                page = await browser.new_page()
                await page.set_content("<p>a page, so a renderer runs</p>")
                processes = _descendants(os.getpid())
                drivers = [
                    _environ(pid)
                    for pid in processes
                    if "run-driver" in _read(f"/proc/{pid}/cmdline")
                ]
                renderers = [
                    words
                    for pid in processes
                    if "--type=renderer" in (words := _read(f"/proc/{pid}/cmdline"))
                ]
            finally:
                await browser.close()
        return drivers, renderers

    drivers, renderers = asyncio.run(launch_and_look())
    assert drivers, "Playwright's driver runs as a child of this process"
    for environ in drivers:
        assert "--max-old-space-size=" in environ.get("NODE_OPTIONS", ""), environ
    assert renderers
    for words in renderers:
        assert f"--js-flags=--max-old-space-size={RENDERER_HEAP_MB}" in words
