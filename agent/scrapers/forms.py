"""Submitting a portal's sign-in forms and reading what the portal answered.

Every sign-in step is the same shape: fill labelled inputs, press a named button,
wait for the page it leads to, then see which of a few known outcomes the portal
shows. The final answer's status code decides first (a 5xx or a rate limit is not a
wrong password); then the page's own words. A page that loaded and shows none of
the expected outcomes is a changed layout; one that never finished loading is a
timeout. Never a silent success.

How long to wait is ``timeouts.scrape_timeout_s()``, set by the crawler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from agent.capture import LayoutChanged, LoginLocked, PortalError, PortalTimeout, RateLimited
from agent.scrapers.http import unreachable_detail
from agent.scrapers.timeouts import answered_within, scrape_timeout_ms, scrape_timeout_s

if TYPE_CHECKING:
    from playwright.async_api import Page, Response

Check = Callable[[], Awaitable[bool]]


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


async def submit(page: Page, fields: Mapping[str, str], button: str) -> None:
    """Fill inputs by their labels, press the button, and check the page it leads to.

    A form that was accepted redirects away from its own address. When the page it
    redirected to then fails with a 5xx, the step itself is done: that page is
    loaded again (once) rather than the step repeated, because repeating a sign-in
    step can cost a new authenticator code, and a new code costs up to 30 s.
    """
    timeout = scrape_timeout_ms()
    form_path = urlsplit(page.url).path
    try:
        for label, value in fields.items():
            await page.get_by_label(label, exact=True).fill(value, timeout=timeout)
        async with page.expect_navigation(
            wait_until="domcontentloaded", timeout=timeout
        ) as navigation:
            await page.get_by_role("button", name=button, exact=True).click(timeout=timeout)
        response = await navigation.value
    except PlaywrightTimeout as exc:
        raise PortalTimeout(f"the sign-in step '{button}' got no complete answer") from exc
    except PlaywrightError as exc:
        raise PortalError(
            unreachable_detail(page.url, exc)
            or f"the sign-in step '{button}' failed: {_first_line(exc)}"
        ) from exc
    if response is None:
        return
    if response.status >= 500 and urlsplit(page.url).path != form_path:
        await goto(page, page.url)
        return
    await check_status(response)


async def goto(page: Page, url: str) -> None:
    try:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=scrape_timeout_ms())
    except PlaywrightTimeout as exc:
        raise PortalTimeout(f"{url} did not load") from exc
    except PlaywrightError as exc:
        raise PortalError(
            unreachable_detail(url, exc) or f"{url} did not load: {_first_line(exc)}"
        ) from exc
    if response is not None:
        await check_status(response)


async def check_status(response: Response) -> None:
    status = response.status
    if status == 429:
        try:
            text = await response.text()
        except PlaywrightError:
            text = ""
        if "Too many attempts" in text:
            raise LoginLocked("the portal locked the login after too many wrong passwords")
        retry = response.headers.get("retry-after")
        raise RateLimited(
            f"{response.url} answered 429",
            retry_after=float(retry) if retry and retry.isdigit() else None,
        )
    if status >= 500:
        raise PortalError(f"{response.url} answered {status}")


async def outcome(page: Page, checks: Mapping[str, Check], *, what: str) -> str:
    """The name of the first check that holds, polling until one does.

    Each check is bounded by what is left of the time: a renderer that stops
    answering must end the wait, not hold it."""
    deadline = time.monotonic() + scrape_timeout_s()
    while (left := deadline - time.monotonic()) > 0:
        for name, check in checks.items():
            try:
                if await answered_within(check(), f"after {what}", seconds=max(left, 0.5)):
                    return name
            except PlaywrightError:
                continue
        await asyncio.sleep(0.05)
    try:
        state = await asyncio.wait_for(page.evaluate("document.readyState"), timeout=2)
    except (TimeoutError, PlaywrightError):
        state = "unknown"
    if state != "complete":
        raise PortalTimeout(f"after {what} the portal's page did not finish loading")
    raise LayoutChanged(f"after {what} the portal showed none of the expected pages ({page.url})")


def visible(page: Page, text: str) -> Check:
    async def check() -> bool:
        return await page.get_by_text(text, exact=False).first.is_visible()

    return check


def label_visible(page: Page, label: str) -> Check:
    async def check() -> bool:
        return await page.get_by_label(label, exact=True).first.is_visible()

    return check


def url_has(page: Page, fragment: str) -> Check:
    async def check() -> bool:
        return fragment in page.url

    return check
