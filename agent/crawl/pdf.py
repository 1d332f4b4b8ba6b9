"""An HTML page printed to PDF by the Chromium the crawl already uses.

No PDF library: Chromium's own print (``page.pdf``) lays the page out exactly as a
browser prints it, print stylesheet included. The page is given as a string and
printed offline: scripts are off and every request the page would make is refused,
so text that came from a portal cannot fetch or run anything while it is printed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agent.crawl.browser import launch_browser
from agent.settings import Settings

if TYPE_CHECKING:
    from playwright.async_api import Route

__all__ = ["html_to_pdf", "print_pdf"]

#: A4, with the page's own ``@page`` margins
PAGE_FORMAT = "A4"


async def _refuse(route: Route) -> None:
    await route.abort()


async def print_pdf(html: str, settings: Settings) -> bytes:
    """The PDF of ``html``, printed by a headless Chromium launched for it."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch_browser(playwright, settings)
        try:
            context = await browser.new_context(java_script_enabled=False, offline=True)
            await context.route("**/*", _refuse)
            page = await context.new_page()
            await page.set_content(html, wait_until="load")
            return await page.pdf(
                format=PAGE_FORMAT, print_background=True, prefer_css_page_size=True
            )
        finally:
            await browser.close()


def html_to_pdf(html: str, settings: Settings) -> bytes:
    """``print_pdf`` for callers without an event loop (the command line)."""
    return asyncio.run(print_pdf(html, settings))
