"""Reading a portal's own JSON with a signed-in context's cookies.

Every request carries the browser context's session (``agent.scrapers.request_session``
keeps a request context's cookie jar one with the browser's), so after one sign-in
an org's JSON, or a page's HTML, is fetched without rendering a page. Every HTTP
answer that is not what was asked for becomes the ``ScanFailure`` that says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError

from agent.capture import (
    NoPermission,
    PortalError,
    PortalTimeout,
    RateLimited,
    ScanFailure,
    SessionExpired,
)
from agent.scrapers.request_session import BodyIncomplete, dispose_later, fetch_text, session_of
from agent.scrapers.timeouts import scrape_timeout_ms, scrape_timeout_s

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


class RequestGate(Protocol):
    """What a context's requests pass through (``limit_requests``): slots, pace, budget."""

    def request(self) -> AbstractAsyncContextManager[None]:
        """Held while one request is in flight; may raise to refuse it."""
        ...

    def answered(self, status: int, headers: Mapping[str, str]) -> None:
        """Told every answer's status and headers (a 429 may slow what follows)."""
        ...


#: the requests a context may have in flight at once, or its gate (``limit_requests``)
_limits: WeakKeyDictionary[BrowserContext, asyncio.Semaphore | RequestGate] = WeakKeyDictionary()

#: What a browser or its HTTP client says when a portal cannot be reached at all,
#: and how a person would put it. Chromium's page loads speak ``net::ERR_*``, the
#: driver's HTTP client Node's error codes; both are matched.
_UNREACHABLE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ECONNREFUSED", "ERR_CONNECTION_REFUSED"), "connection refused"),
    (
        (
            "ENOTFOUND",
            "EAI_AGAIN",
            "ERR_NAME_NOT_RESOLVED",
            "ERR_NAME_RESOLUTION_FAILED",
            "getaddrinfo",
        ),
        "the host name does not resolve (DNS)",
    ),
    (
        (
            "ERR_CERT_",
            "ERR_SSL_",
            "ERR_BAD_SSL",
            "CERT_",
            "certificate",
            "SSL routines",
            "EPROTO",
            "wrong version number",
            "TLS",
        ),
        "TLS error",
    ),
    (
        (
            "EHOSTUNREACH",
            "ENETUNREACH",
            "ERR_ADDRESS_UNREACHABLE",
            "ERR_NETWORK_",
            "ERR_INTERNET_DISCONNECTED",
        ),
        "network unreachable",
    ),
    (("ETIMEDOUT", "ERR_CONNECTION_TIMED_OUT"), "the connection timed out"),
    (
        (
            "ECONNRESET",
            "ERR_CONNECTION_RESET",
            "ERR_CONNECTION_CLOSED",
            "ERR_EMPTY_RESPONSE",
            "socket hang up",
        ),
        "the connection was closed",
    ),
)


def origin_of(url: str) -> str:
    """``http://host:port/`` of a URL: what a person checks when a portal is unreachable."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else url


def unreachable_detail(url: str, exc: BaseException) -> str | None:
    """``cannot reach http://host:port/: connection refused`` when ``exc`` says the
    portal could not be reached (refused, DNS, TLS, network) or dropped the
    connection, else ``None``.

    A raw driver message carries a call log of many lines; a failed scan's detail
    and the command line's one line need the cause in a few words.
    """
    message = str(exc)
    for markers, cause in _UNREACHABLE:
        if any(marker in message for marker in markers):
            if cause == "TLS error":
                code = next(
                    (
                        w.strip(".:,")
                        for w in message.split()
                        if w.strip(".:,").startswith(("net::ERR_", "ERR_"))
                    ),
                    "",
                )
                cause = f"TLS error ({code.removeprefix('net::')})" if code else cause
            if cause == "the connection was closed":
                return f"{origin_of(url)} closed the connection"
            return f"cannot reach {origin_of(url)}: {cause}"
    return None


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


async def session_alive(context: BrowserContext, url: str) -> bool:
    """Whether the context's session still opens the page at ``url``.

    ``False`` only when the portal says so (a redirect to sign-in, a 401); a fault
    (5xx, 429, no answer) raises its failure, to be retried: a sign-in started on a
    fault's word would spend an authenticator code for nothing.
    """
    status, headers, _ = await _get(context, url, "text/html")
    try:
        _raise_for_status(url, status, headers, None)
    except SessionExpired:
        return False
    return True


def limit_requests(context: BrowserContext, slots: asyncio.Semaphore | RequestGate) -> None:
    """Make every request of ``context`` (until its body is in) hold one of ``slots``,
    or pass its gate (``agent.crawl.gate``: a budget, a pace and slots).

    This is what a portal feels of a crawl: the crawler shares one set of slots
    among its contexts, so the portals never see more requests at once than the
    crawl's concurrency, however many orgs are being read or waiting for the browser.
    """
    _limits[context] = slots


async def _get(context: BrowserContext, url: str, accept: str) -> tuple[int, dict[str, str], str]:
    return await send(context, "GET", url, headers={"Accept": accept})


async def send(
    context: BrowserContext,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    form: dict[str, str | float | bool] | None = None,
) -> tuple[int, dict[str, str], str]:
    """One request with the context's session, redirects not followed: its status,
    headers and body, or the failure that no answer (or half of one) stands for.

    It holds one of the context's request slots (``limit_requests``) while in flight,
    or passes the context's gate, which is told the answer.
    """
    gate = _limits.get(context)
    if gate is None or isinstance(gate, asyncio.Semaphore):
        async with gate if gate is not None else contextlib.nullcontext():
            return await _send_now(context, method, url, headers, form)
    async with gate.request():
        answer = await _send_now(context, method, url, headers, form)
        gate.answered(answer[0], answer[1])
        return answer


async def _send_now(
    context: BrowserContext,
    method: str,
    url: str,
    headers: dict[str, str],
    form: dict[str, str | float | bool] | None,
) -> tuple[int, dict[str, str], str]:
    session = session_of(context)
    try:
        if session is not None:
            return await session.fetch(
                url, method=method, headers=headers, form=form, timeout=scrape_timeout_ms()
            )
        # a browser whose Playwright is not known reads through its context's own request
        response, text = await fetch_text(
            context.request,
            url,
            method=method,
            headers=headers,
            form=form,
            timeout=scrape_timeout_ms(),
        )
    except PlaywrightError as exc:
        raise _failure(url, exc) from exc
    except BodyIncomplete as exc:
        raise PortalTimeout(f"the body of {url} did not arrive complete") from exc
    # The driver keeps every body until the context closes unless told otherwise
    # (14 KB an org, 130 MB more for a 10,000-org crawl). Nobody waits on that.
    dispose_later(response)
    return response.status, response.headers, text


def _failure(url: str, exc: PlaywrightError) -> ScanFailure:
    """What a request that got no whole answer stands for."""
    message = str(exc)
    unreachable = unreachable_detail(url, exc)
    if unreachable is not None:
        return PortalError(unreachable)
    if "Timeout" in message or "timed out" in message:
        return PortalTimeout(f"no answer from {url} within {scrape_timeout_s():.0f} s")
    return PortalError(f"request to {url} failed: {message.splitlines()[0]}")


def _raise_for_status(url: str, status: int, headers: dict[str, str], error: object) -> None:
    if status == 401 or (300 <= status < 400):
        raise SessionExpired(f"{url} answered {status}: the session is no longer accepted")
    if status == 403:
        if error == "no_permission":
            raise NoPermission("the login's role in this org cannot view users")
        raise PortalError(f"{url} answered 403 ({error or 'no reason given'})")
    if status == 404:
        raise PortalError("the portal says this org does not exist or this login cannot open it")
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
