"""Submitting a portal's sign-in forms and reading what the portal answered.

Every sign-in step is the same shape: fill labelled inputs, press a named button,
then see which of a few known outcomes the portal shows. The answer's status code
decides first (a 5xx or a rate limit is not a wrong password); then the page's own
words. A page that shows none of the expected outcomes is a changed layout, never
a silent success.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from agent.scrapers.base import LayoutChanged, LoginLocked, PortalError, PortalTimeout, RateLimited

if TYPE_CHECKING:
    from playwright.async_api import Page, Response

STEP_TIMEOUT_S = 20.0

Check = Callable[[], Awaitable[bool]]


async def submit(page: Page, fields: Mapping[str, str], button: str) -> None:
    """Fill inputs by their labels, press the button, and check the HTTP answer."""
    try:
        for label, value in fields.items():
            await page.get_by_label(label, exact=True).fill(value, timeout=STEP_TIMEOUT_S * 1000)
        async with page.expect_response(
            lambda r: r.request.method == "POST", timeout=STEP_TIMEOUT_S * 1000
        ) as answer:
            await page.get_by_role("button", name=button, exact=True).click()
        response = await answer.value
    except PlaywrightTimeout as exc:
        raise PortalTimeout(f"the sign-in step '{button}' got no answer") from exc
    except PlaywrightError as exc:
        first_line = str(exc).splitlines()[0]
        raise PortalError(f"the sign-in step '{button}' failed: {first_line}") from exc
    await check_status(response)


async def goto(page: Page, url: str) -> None:
    try:
        response = await page.goto(url, wait_until="domcontentloaded",
                                   timeout=STEP_TIMEOUT_S * 1000)
    except PlaywrightTimeout as exc:
        raise PortalTimeout(f"{url} did not load") from exc
    except PlaywrightError as exc:
        raise PortalError(f"{url} did not load: {str(exc).splitlines()[0]}") from exc
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
        raise RateLimited(f"{response.url} answered 429",
                          retry_after=float(retry) if retry and retry.isdigit() else None)
    if status >= 500:
        raise PortalError(f"{response.url} answered {status}")


async def outcome(page: Page, checks: Mapping[str, Check], *, what: str) -> str:
    """The name of the first check that holds, polling until one does."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        for name, check in checks.items():
            try:
                if await check():
                    return name
            except PlaywrightError:
                continue
        await asyncio.sleep(0.1)
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
