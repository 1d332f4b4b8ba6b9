"""Reads sent by a request context of the driver's own, carrying its browser context's session.

``context.request`` shares the browser context's cookie jar by asking the browser for
the context's cookies before every request and handing each ``Set-Cookie`` back after
it: round trips through the browser process on every read. A request context of the
driver's own (``playwright.request.new_context``) keeps its jar in the driver, so a
read costs the browser nothing; on a qbo crawl that was about 12% more orgs a second
(docs/benchmarks.md, "qbo read path").

The two jars must stay one, or a session the portal keeps would be split or lost:

* The request context is built from the browser context's ``storage_state`` at the
  first read, and again whenever the browser's jar may have changed: after any
  document, XHR or fetch answer a page of the context received (a sign-in walks
  pages), and when the crawler says so (``cookies_changed``: it cleared the cookies to
  sign in again).
* A read answered with ``Set-Cookie`` carries the request context's cookies into the
  browser context (and clears there those the portal dropped), so a page opened later,
  and the session kept for the next crawl, hold what the portal last said.
* It sends the browser's own ``User-Agent``: a request context of its own would
  announce itself as Playwright.
* It is retired after ``READS_PER_CONTEXT`` reads and disposed, with every answer it
  holds, once its reads in flight are done. The driver keeps every answer's body until
  then; disposing answers one by one cost a round trip each. Its successor starts from
  the browser context's cookies, which every ``Set-Cookie`` has reached.
* It is disposed when its browser context closes.

Only a browser whose Playwright is known (``own_requests``, which ``launch_browser``
calls) reads this way; a context of any other browser reads through
``context.request`` as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError

from agent.scrapers.timeouts import answered_within

if TYPE_CHECKING:
    from playwright.async_api import (
        APIRequest,
        APIRequestContext,
        APIResponse,
        Browser,
        BrowserContext,
        Response,
    )

#: reads one request context serves before it is retired (and its answers freed)
READS_PER_CONTEXT = 256
#: answers of pages that may change the session: what a sign-in's pages load
_SESSION_ANSWERS = frozenset({"document", "xhr", "fetch"})

#: each browser's Playwright ``request`` (``own_requests``)
_requests: WeakKeyDictionary[Browser, APIRequest] = WeakKeyDictionary()
#: each browser's ``User-Agent``, learnt once
_user_agents: WeakKeyDictionary[Browser, str] = WeakKeyDictionary()
_sessions: WeakKeyDictionary[BrowserContext, RequestSession] = WeakKeyDictionary()
#: disposals under way: held so that their tasks are not collected half way
_disposals: set[asyncio.Task[None]] = set()


class BodyIncomplete(Exception):
    """An answer's headers came but its body did not, whole."""


async def fetch_text(
    api: APIRequestContext,
    url: str,
    *,
    method: str,
    headers: dict[str, str],
    form: dict[str, str | float | bool] | None,
    timeout: float,
) -> tuple[APIResponse, str]:
    """One request through ``api``, redirects not followed, and its body as text
    (``BodyIncomplete`` when the headers came and the body did not, whole)."""
    response = await api.fetch(
        url,
        method=method,
        headers=headers,
        form=form,
        timeout=timeout,
        max_redirects=0,
        fail_on_status_code=False,
    )
    try:
        return response, await response.text()
    except PlaywrightError as exc:
        raise BodyIncomplete(str(exc)) from exc


def own_requests(browser: Browser, request: APIRequest) -> None:
    """Let the contexts of ``browser`` read through request contexts made by ``request``
    (``playwright.request`` of the Playwright that launched it)."""
    _requests[browser] = request


def session_of(context: BrowserContext) -> RequestSession | None:
    """The request session reading for ``context``, made at its first read; ``None``
    when its browser's Playwright is not known (it reads through ``context.request``)."""
    session = _sessions.get(context)
    if session is None:
        browser = context.browser
        request = _requests.get(browser) if browser is not None else None
        if request is None:
            return None
        session = _sessions[context] = RequestSession(context, request)
    return session


def cookies_changed(context: BrowserContext) -> None:
    """Tell the reads of ``context`` that its browser's cookies changed by other means
    than a page (cleared, added): the next read starts from the browser's jar."""
    session = _sessions.get(context)
    if session is not None:
        session.renew()


class _Jar:
    """One request context, and the reads it has served and has in flight."""

    __slots__ = ("api", "in_flight", "reads", "retired")

    def __init__(self, api: APIRequestContext) -> None:
        self.api = api
        self.reads = 0
        self.in_flight = 0
        self.retired = False


class RequestSession:
    """The request contexts reading for one browser context, one at a time."""

    def __init__(self, context: BrowserContext, request: APIRequest) -> None:
        self._context = context
        self._request = request
        self._current: _Jar | None = None
        #: counts the times the browser's jar may have changed (``renew``)
        self._generation = 0
        self._building = asyncio.Lock()
        self._closed = False
        context.on("response", self._page_answered)
        context.on("close", self._context_closed)

    def renew(self) -> None:
        """Start the next read from the browser context's cookies."""
        self._generation += 1
        if self._current is not None:
            self._retire(self._current)

    async def fetch(
        self,
        url: str,
        *,
        method: str,
        headers: dict[str, str],
        form: dict[str, str | float | bool] | None,
        timeout: float,
    ) -> tuple[int, dict[str, str], str]:
        """One request, redirects not followed: its status, headers and body."""
        jar = await self._jar()
        jar.in_flight += 1
        jar.reads += 1
        if jar.reads >= READS_PER_CONTEXT:
            self._retire(jar)
        try:
            response, text = await fetch_text(
                jar.api, url, method=method, headers=headers, form=form, timeout=timeout
            )
            answer_headers = response.headers
            if "set-cookie" in answer_headers:
                await self._carry_cookies(jar)
            return response.status, answer_headers, text
        finally:
            jar.in_flight -= 1
            if jar.retired and jar.in_flight == 0:
                dispose_later(jar.api)

    async def _jar(self) -> _Jar:
        current = self._current
        if current is not None:
            return current
        async with self._building:
            while self._current is None:
                if self._closed:
                    raise PlaywrightError("the browser context was closed")
                generation = self._generation
                jar = await self._build()
                if generation == self._generation and not self._closed:
                    self._current = jar
                else:  # a page changed the cookies (or the context closed) meanwhile
                    self._retire(jar)
            return self._current

    async def _build(self) -> _Jar:
        state: Any = await answered_within(self._context.storage_state(), "the session's state")
        agent = await self._user_agent()
        api = await answered_within(
            self._request.new_context(storage_state=state, user_agent=agent),
            "a new request context",
        )
        return _Jar(api)

    def _retire(self, jar: _Jar) -> None:
        if jar.retired:
            return
        jar.retired = True
        if self._current is jar:
            self._current = None
        if jar.in_flight == 0:
            dispose_later(jar.api)

    async def _carry_cookies(self, jar: _Jar) -> None:
        """Make the browser context's cookies the request context's, after a read that
        set some: added or changed ones added, dropped ones cleared."""
        ours = (await jar.api.storage_state())["cookies"]
        theirs = await answered_within(self._context.cookies(), "the session's cookies")
        kept = {(c["name"], c["domain"], c["path"]) for c in ours}
        for cookie in theirs:
            key = (cookie.get("name"), cookie.get("domain"), cookie.get("path"))
            if key not in kept:
                await answered_within(
                    self._context.clear_cookies(name=key[0], domain=key[1], path=key[2]),
                    "a cookie cleared",
                )
        if ours:
            await answered_within(
                self._context.add_cookies(ours),  # type: ignore[arg-type]
                "cookies added",
            )
        if jar.retired:  # a successor may have started from the cookies before these
            self.renew()

    async def _user_agent(self) -> str:
        """The browser's ``User-Agent``, asked of the browser itself once: no page, so
        no renderer, is needed for it."""
        browser = self._context.browser
        assert browser is not None
        agent = _user_agents.get(browser)
        if agent is None:
            devtools = await browser.new_browser_cdp_session()
            try:
                version = await answered_within(
                    devtools.send("Browser.getVersion"), "the browser's version"
                )
            finally:
                with contextlib.suppress(PlaywrightError):
                    await devtools.detach()
            agent = _user_agents[browser] = str(version["userAgent"])
        return agent

    def _page_answered(self, response: Response) -> None:
        if response.request.resource_type in _SESSION_ANSWERS:
            self.renew()

    def _context_closed(self, _: BrowserContext) -> None:
        self._closed = True
        # the session holds its context: left in the weak mapping, neither would go
        _sessions.pop(self._context, None)
        if self._current is not None:
            self._retire(self._current)


class Disposable(Protocol):
    """What the driver holds until told to let go: an answer, a request context."""

    async def dispose(self) -> None: ...


def dispose_later(held: Disposable) -> None:
    """Tell the driver to let ``held`` go, without waiting on it: nobody needs the
    answer, and an object already gone (its context closed) is no error."""
    task = asyncio.get_running_loop().create_task(_dispose(held))
    _disposals.add(task)
    task.add_done_callback(_disposals.discard)


async def _dispose(held: Disposable) -> None:
    with contextlib.suppress(PlaywrightError):
        await held.dispose()
