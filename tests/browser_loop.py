"""One Chromium for the whole test session, driven through Playwright's async API.

The crawler is async; pytest tests are not. The browser lives on an event loop in a
thread of its own, and tests hand it coroutines to run, so every test shares one
browser (launching one per test would cost a quarter second and 280 MiB each).
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from playwright.async_api import Browser, Playwright, async_playwright

from agent.crawl.browser import QUIET_FLAGS
from agent.scrapers.request_session import own_requests

T = TypeVar("T")


class BrowserLoop:
    def __init__(self, executable_path: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="browser-loop"
        )
        self._thread.start()
        self._playwright: Playwright | None = None
        self.browser: Browser = self._submit(self._start(executable_path), timeout=60)

    async def _start(self, executable_path: str) -> Browser:
        self._playwright = await async_playwright().start()
        browser = await self._playwright.chromium.launch(
            executable_path=executable_path, headless=True, args=list(QUIET_FLAGS)
        )
        own_requests(browser, self._playwright.request)  # as ``launch_browser`` does
        return browser

    def _submit(self, coro: Awaitable[T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            sys.stderr.write(self.stuck_tasks())
            future.cancel()
            raise

    def stuck_tasks(self) -> str:
        """Where each of the loop's tasks waits: what a work that never ends awaits."""
        out = io.StringIO()
        for task in asyncio.all_tasks(self._loop):
            out.write(f"--- {task!r}\n")
            task.print_stack(limit=30, file=out)
        return out.getvalue()

    def run(self, work: Callable[[Browser], Awaitable[T]], timeout: float = 180) -> T:
        """Run ``work(browser)`` on the browser's loop and return its result."""
        return self._submit(work(self.browser), timeout)

    def close(self) -> None:
        async def stop() -> None:
            await self.browser.close()
            if self._playwright:
                await self._playwright.stop()

        self._submit(stop(), timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
