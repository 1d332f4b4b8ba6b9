"""A renderer that stops answering ends a wait as a timeout, never as a crawl that hangs.

A page whose script never yields keeps its renderer from answering anything: a check
of what it shows, a script run in it. Calls with no timeout of their own are bounded
(``agent.scrapers.timeouts.answered_within``), so the scan fails as ``timeout`` and
is retried like any silent portal.
"""

from __future__ import annotations

import time

import pytest

from agent.capture import PortalTimeout
from agent.crawl.browser import close_context
from agent.scrapers import forms
from agent.scrapers.pages import close_page
from agent.scrapers.timeouts import answered_within, use_scrape_timeout
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser

#: a page that shows a form, then keeps its renderer busy for ever
STUCK = """<form><label>Email<input id=e></label></form>
<script>setTimeout(() => { for (;;) {} }, 100)</script>"""

TIMEOUT_S = 1.0


def test_a_check_on_a_stuck_page_ends_as_a_timeout(browser_loop: BrowserLoop) -> None:
    async def work() -> tuple[str, float]:
        use_scrape_timeout(TIMEOUT_S)
        context = await browser_loop.browser.new_context()
        page = await context.new_page()
        try:
            await page.set_content(STUCK)
            await page.wait_for_timeout(300)  # the script is now spinning
            started = time.monotonic()
            with pytest.raises(PortalTimeout) as raised:
                await forms.outcome(
                    page,
                    {"signed in": forms.visible(page, "Welcome")},
                    what="the password",
                )
            return str(raised.value), time.monotonic() - started
        finally:
            await close_page(page)
            await close_context(context)

    message, took = browser_loop.run(lambda _browser: work(), timeout=60)
    assert "the password" in message
    # the scrape timeout, one bounded look at the page's state, and some slack
    assert took < TIMEOUT_S + 2 + 5, took


def test_a_script_run_on_a_stuck_page_is_bounded(browser_loop: BrowserLoop) -> None:
    async def work() -> str:
        use_scrape_timeout(TIMEOUT_S)
        context = await browser_loop.browser.new_context()
        page = await context.new_page()
        try:
            await page.set_content(STUCK)
            await page.wait_for_timeout(300)
            with pytest.raises(PortalTimeout) as raised:
                await answered_within(page.evaluate("document.title"), "the page's title")
            return str(raised.value)
        finally:
            await close_page(page)
            await close_context(context)

    message = browser_loop.run(lambda _browser: work(), timeout=60)
    assert message == "the browser did not answer (the page's title) within 1 s"
