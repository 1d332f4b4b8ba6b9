"""How long a scraper waits for a portal, set once per crawl.

The crawler sets it from ``ACCESSRECON_SCRAPE_TIMEOUT_S`` for the tasks of a crawl
(a context variable, so concurrent crawls with different settings do not mix);
Playwright calls get it through the browser context's default timeout, and the
scrapers' own polling reads it here. A portal that does not answer in that time is
a ``timeout`` scan, retried like any transient fault.
"""

from __future__ import annotations

from contextvars import ContextVar

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
