"""Reading a portal's own JSON with a signed-in context's cookies.

``context.request`` shares the browser context's cookie jar, so after one sign-in
the org's JSON can be fetched without rendering a page. Every HTTP answer that is
not a good JSON body becomes the ``ScanFailure`` that says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError

from agent.scrapers.base import (
    NoPermission,
    PortalError,
    PortalTimeout,
    RateLimited,
    SessionExpired,
)
from agent.scrapers.timeouts import scrape_timeout_ms, scrape_timeout_s

if TYPE_CHECKING:
    from playwright.async_api import APIResponse, BrowserContext

#: responses being disposed: held so that their tasks are not collected half way
_disposals: set[asyncio.Task[None]] = set()

async def get_json(context: BrowserContext, url: str) -> Any:
    """GET ``url`` as JSON with the context's session, or raise the failure it shows."""
    status, headers, text = await _get(context, url, "application/json")
    body = _json(text)
    error = body.get("error") if isinstance(body, dict) else None
    _raise_for_status(url, status, headers, error)
    if body is None:
        raise PortalError(f"{url} answered 200 without a JSON body")
    return body


async def get_html(context: BrowserContext, url: str) -> str:
    """GET a server-rendered page's HTML with the context's session, or raise its failure.

    A redirect is not followed: a page that sends the session to sign-in has expired it.
    """
    status, headers, text = await _get(context, url, "text/html")
    _raise_for_status(url, status, headers, None)
    return text


async def _get(context: BrowserContext, url: str, accept: str) -> tuple[int, dict[str, str], str]:
    try:
        response = await context.request.get(
            url, headers={"Accept": accept}, timeout=scrape_timeout_ms(), max_redirects=0,
            fail_on_status_code=False,
        )
    except PlaywrightError as exc:
        message = str(exc)
        if "Timeout" in message or "timed out" in message:
            raise PortalTimeout(f"no answer from {url} within {scrape_timeout_s():.0f} s") from exc
        raise PortalError(f"request to {url} failed: {message.splitlines()[0]}") from exc
    try:
        text = await response.text()
    except PlaywrightError as exc:
        raise PortalTimeout(f"the body of {url} did not arrive complete") from exc
    finally:
        # The driver keeps every body until the context closes unless told otherwise
        # (14 KB an org, 130 MB more for a 10,000-org crawl). Nobody waits on that.
        disposal = asyncio.create_task(_dispose(response))
        _disposals.add(disposal)
        disposal.add_done_callback(_disposals.discard)
    return response.status, response.headers, text


async def _dispose(response: APIResponse) -> None:
    with contextlib.suppress(PlaywrightError):
        await response.dispose()


def _raise_for_status(url: str, status: int, headers: dict[str, str], error: object) -> None:
    if status == 401 or (300 <= status < 400):
        raise SessionExpired(f"{url} answered {status}: the session is no longer accepted")
    if status == 403:
        if error == "no_permission":
            raise NoPermission("the login's role in this org cannot view users")
        raise PortalError(f"{url} answered 403 ({error or 'no reason given'})")
    if status == 404:
        raise PortalError(
            "the portal says this org does not exist or this login cannot open it")
    if status == 429:
        retry = headers.get("retry-after")
        raise RateLimited(
            f"{url} answered 429", retry_after=float(retry) if retry and _is_number(retry) else None
        )
    if status >= 500:
        raise PortalError(f"{url} answered {status}")
    if status != 200:
        raise PortalError(f"{url} answered {status} ({error or 'unexpected status'})")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
