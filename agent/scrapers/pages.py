"""Pages for DOM scrapers: reused per context, and every navigation checked.

Opening a page costs 0.2–0.3 s here; a crawl reuses idle pages of a login's context
instead (the crawler's concurrency bound limits how many are ever open). Every
navigation is checked the same way: a redirect to the sign-in page is an expired
session, the no-permission sentence of the portal's recipe is ``no_permission``, a
404 is an org the login cannot open, 429 and 5xx are transient faults.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from agent.capture import NoPermission, PortalError, PortalTimeout, SessionExpired
from agent.scrapers.forms import check_status
from agent.scrapers.http import unreachable_detail
from agent.scrapers.timeouts import (
    answered_within,
    closing_limit_s,
    scrape_timeout_ms,
    scrape_timeout_s,
)

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

#: The viewport of a page that only reads. Width keeps layout as on a desktop
#: screen (what wraps, what is visible, the text ``innerText`` gives); the shallow
#: height spares the browser rasterising and compositing 720 rows of pixels after
#: every document swap, which nobody looks at: a quarter of its CPU per page read.
READING_VIEWPORT = {"width": 1280, "height": 64}

_idle: WeakKeyDictionary[BrowserContext, list[Page]] = WeakKeyDictionary()

log = logging.getLogger(__name__)


@asynccontextmanager
async def page_from(context: BrowserContext) -> AsyncIterator[Page]:
    """An idle page of the context, or a new one; handed back for reuse afterwards."""
    pool = _idle.setdefault(context, [])
    page = None
    while pool and page is None:
        candidate = pool.pop()
        page = None if candidate.is_closed() else candidate
    if page is None:
        page = await answered_within(context.new_page(), "a new page")
        await answered_within(
            page.set_viewport_size(READING_VIEWPORT),  # type: ignore[arg-type]
            "a page's size",
        )
    healthy = False
    try:
        yield page
        healthy = True
    finally:
        if healthy and not page.is_closed():
            pool.append(page)
        elif not page.is_closed():
            await close_page(page)


async def close_within(closing: Awaitable[None], what: str) -> None:
    """Wait for a page or a context to close, within the closing limit: one already
    closed, or a browser too stuck to close it, leaves nothing more to do here."""
    with contextlib.suppress(PlaywrightError):
        try:
            await answered_within(closing, what, seconds=closing_limit_s())
        except PortalTimeout as exc:
            log.warning("%s", exc)


async def close_page(page: Page) -> None:
    await close_within(page.close(), "a page closed")


async def keep_for_reading(context: BrowserContext, page: Page) -> None:
    """Give a page done with to the context's idle pages, for ``page_from`` to hand out."""
    await answered_within(
        page.set_viewport_size(READING_VIEWPORT),  # type: ignore[arg-type]
        "a page's size",
    )
    _idle.setdefault(context, []).append(page)


async def open_org_page(page: Page, url: str, *, login_path: str, no_permission: str) -> None:
    """Navigate to an org's page and raise the failure the answer shows, if any."""
    try:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=scrape_timeout_ms())
    except PlaywrightTimeout as exc:
        raise PortalTimeout(f"{url} did not load within {scrape_timeout_s():.0f} s") from exc
    except PlaywrightError as exc:
        raise PortalError(
            unreachable_detail(url, exc) or f"{url} did not load: {str(exc).splitlines()[0]}"
        ) from exc
    if urlsplit(page.url).path.rstrip("/") == login_path.rstrip("/"):
        raise SessionExpired("the portal sent the page to its sign-in form")
    if response is None:
        raise PortalError(f"{url} gave no response")
    await check_status(response)
    if response.status == 404:
        raise PortalError("the portal says this org does not exist or this login cannot open it")
    if response.status != 200:
        raise PortalError(f"{url} answered {response.status}")
    try:
        if await page.get_by_text(no_permission).count():
            raise NoPermission("the login's role in this org cannot view users")
    except PlaywrightError as exc:
        raise PortalError(f"{url} could not be read: {str(exc).splitlines()[0]}") from exc
