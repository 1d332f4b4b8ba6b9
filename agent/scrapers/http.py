"""Reading a portal's own JSON with a signed-in context's cookies.

``context.request`` shares the browser context's cookie jar, so after one sign-in
the org's JSON can be fetched without rendering a page. Every HTTP answer that is
not a good JSON body becomes the ``ScanFailure`` that says why.
"""

from __future__ import annotations

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

async def get_json(context: BrowserContext, url: str) -> Any:
    """GET ``url`` as JSON with the context's session, or raise the failure it shows."""
    try:
        response = await context.request.get(
            url,
            headers={"Accept": "application/json"},
            timeout=scrape_timeout_ms(),
            max_redirects=0,
            fail_on_status_code=False,
        )
    except PlaywrightError as exc:
        message = str(exc)
        if "Timeout" in message or "timed out" in message:
            raise PortalTimeout(f"no answer from {url} within {scrape_timeout_s():.0f} s") from exc
        raise PortalError(f"request to {url} failed: {message.splitlines()[0]}") from exc
    return await _decode(response, url)


async def _decode(response: APIResponse, url: str) -> Any:
    status = response.status
    body = await _body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if status == 401 or (300 <= status < 400):
        raise SessionExpired(f"{url} answered {status}: the session is no longer accepted")
    if status == 403:
        if error == "no_permission":
            raise NoPermission("the login's role in this org cannot view users")
        raise PortalError(f"{url} answered 403 ({error or 'no reason given'})")
    if status == 429:
        retry = response.headers.get("retry-after")
        raise RateLimited(
            f"{url} answered 429", retry_after=float(retry) if retry and _is_number(retry) else None
        )
    if status >= 500:
        raise PortalError(f"{url} answered {status}")
    if status != 200:
        raise PortalError(f"{url} answered {status} ({error or 'unexpected status'})")
    if body is None:
        raise PortalError(f"{url} answered 200 without a JSON body")
    return body


async def _body(response: APIResponse) -> Any:
    try:
        text = await response.text()
    except PlaywrightError as exc:
        raise PortalTimeout(f"the body of {response.url} did not arrive complete") from exc
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
