"""How long a scraper waits for a portal, set once per crawl.

The crawler sets it from ``ACCESSRECON_SCRAPE_TIMEOUT_S`` for the tasks of a crawl
(a context variable, so concurrent crawls with different settings do not mix);
Playwright calls get it through the browser context's default timeout, and the
scrapers' own polling reads it here. A portal that does not answer in that time is
a ``timeout`` scan, retried like any transient fault.

Some browser calls take no timeout of their own (a page opened or closed, a
context's cookies read, a check of what a page shows): ``answered_within`` bounds
them, so a browser or renderer that stops answering ends a scan as a timeout
instead of leaving the crawl waiting for ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import TypeVar

from agent.capture import PortalTimeout

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 20.0

_timeout_s: ContextVar[float] = ContextVar("scrape_timeout_s", default=DEFAULT_TIMEOUT_S)


def use_scrape_timeout(seconds: float) -> None:
    if seconds <= 0:
        raise ValueError("the scrape timeout must be a positive number of seconds")
    _timeout_s.set(seconds)


def scrape_timeout_s() -> float:
    return _timeout_s.get()


def scrape_timeout_ms() -> float:
    return _timeout_s.get() * 1000


async def answered_within(call: Awaitable[T], what: str, *, seconds: float | None = None) -> T:
    """``call``'s result, or ``PortalTimeout`` naming ``what`` when the browser has not
    answered within ``seconds`` (the scrape timeout unless given)."""
    limit = scrape_timeout_s() if seconds is None else seconds
    try:
        return await asyncio.wait_for(call, limit)
    except TimeoutError:
        raise PortalTimeout(f"the browser did not answer ({what}) within {limit:g} s") from None


def closing_limit_s() -> float:
    """How long closing a page or a context may take: a browser under load closes
    slowly, and nothing waits on it but the end of the crawl."""
    return 3 * scrape_timeout_s()
