"""Reads through a request context of the driver's own keep one session with the browser.

A portal sees one client: the browser's cookies and ``User-Agent`` on every read, a
cookie it sets on a read kept by the browser (and by the session saved for the next
crawl), a sign-in walked in the browser's pages used by the next read, a cleared
session not sent again. The request contexts are freed as reads go on and when their
browser context closes.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import APIRequest, APIRequestContext, Browser, BrowserContext
from playwright.async_api import Error as PlaywrightError

from agent.capture import SessionExpired
from agent.scrapers import request_session
from agent.scrapers.http import get_json, session_alive
from agent.scrapers.request_session import cookies_changed, own_requests, session_of
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser


class Portal:
    """A portal that echoes what each request carried, and sets or drops cookies."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                portal.seen.append(
                    {
                        "path": parts.path,
                        "cookie": self.headers.get("Cookie", ""),
                        "agent": self.headers.get("User-Agent", ""),
                    }
                )
                if parts.path == "/private" and "session=" not in self.headers.get("Cookie", ""):
                    self.send_response(302)
                    self.send_header("Location", "/signin")
                    self.end_headers()
                    return
                body = json.dumps({"cookie": self.headers.get("Cookie", "")}).encode()
                self.send_response(200)
                self.send_header(
                    "Content-Type", "text/html" if parts.path == "/signin" else "application/json"
                )
                if parts.path == "/signin":  # a sign-in walked in a page
                    self.send_header("Set-Cookie", "session=walked; Path=/; HttpOnly")
                for name, value in query.items():  # a read that sets (or drops) cookies
                    if value:
                        self.send_header("Set-Cookie", f"{name}={value}; Path=/")
                    else:
                        self.send_header("Set-Cookie", f"{name}=; Path=/; Max-Age=0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.host = "127.0.0.1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture
def portal() -> Iterator[Portal]:
    served = Portal()
    yield served
    served.close()


def _cookie(portal: Portal, name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "domain": portal.host, "path": "/"}


async def _jar(context: BrowserContext) -> dict[str, str]:
    return {c["name"]: c["value"] for c in await context.cookies()}


class CountedRequest:
    """``playwright.request``, keeping every request context it made."""

    def __init__(self, request: APIRequest) -> None:
        self._request = request
        self.made: list[APIRequestContext] = []

    async def new_context(self, **options: Any) -> APIRequestContext:
        made = await self._request.new_context(**options)
        self.made.append(made)
        return made


async def _disposed(api: APIRequestContext) -> bool:
    try:
        await api.storage_state()
    except PlaywrightError:
        return True
    return False


def _counted(browser: Browser) -> CountedRequest:
    counted = CountedRequest(request_session._requests[browser])
    own_requests(browser, counted)  # type: ignore[arg-type]
    return counted


def test_a_read_carries_the_browser_session_and_user_agent(
    browser_loop: BrowserLoop, portal: Portal
) -> None:
    async def work(browser: Browser) -> tuple[str, dict[str, Any]]:
        context = await browser.new_context(
            storage_state={"cookies": [_cookie(portal, "session", "kept")], "origins": []}
        )
        try:
            page = await context.new_page()
            await page.goto(f"{portal.base}/look")
            await page.close()
            assert session_of(context) is not None
            return portal.seen[-1]["agent"], await get_json(context, f"{portal.base}/read")
        finally:
            await context.close()

    browser_agent, body = browser_loop.run(work)
    assert body == {"cookie": "session=kept"}
    read = portal.seen[-1]
    assert read["path"] == "/read"
    assert read["agent"] == browser_agent
    assert "HeadlessChrome" in read["agent"]
    assert "Playwright" not in read["agent"]


def test_a_cookie_set_or_dropped_on_a_read_is_the_browsers_too(
    browser_loop: BrowserLoop, portal: Portal
) -> None:
    async def work(browser: Browser) -> tuple[dict[str, str], dict[str, str], str]:
        context = await browser.new_context(
            storage_state={
                "cookies": [_cookie(portal, "session", "one"), _cookie(portal, "stale", "x")],
                "origins": [],
            }
        )
        try:
            await get_json(context, f"{portal.base}/read?session=two&stale=")
            after_read = await _jar(context)
            kept = {c["name"]: c["value"] for c in (await context.storage_state())["cookies"]}
            page = await context.new_page()
            await page.goto(f"{portal.base}/look")
            return after_read, kept, portal.seen[-1]["cookie"]
        finally:
            await context.close()

    after_read, kept, page_sent = browser_loop.run(work)
    assert after_read == {"session": "two"}
    assert kept == {"session": "two"}  # what the next crawl starts from
    assert page_sent == "session=two"


def test_a_sign_in_walked_in_a_page_is_what_the_next_read_sends(
    browser_loop: BrowserLoop, portal: Portal
) -> None:
    async def work(browser: Browser) -> tuple[bool, bool, str]:
        context = await browser.new_context()
        try:
            before = await session_alive(context, f"{portal.base}/private")
            page = await context.new_page()
            await page.goto(f"{portal.base}/signin")
            await page.close()
            after = await session_alive(context, f"{portal.base}/private")
            return before, after, portal.seen[-1]["cookie"]
        finally:
            await context.close()

    before, after, sent = browser_loop.run(work)
    assert (before, after) == (False, True)
    assert sent == "session=walked"


def test_cookies_a_page_changes_while_a_request_context_is_built_are_not_missed(
    browser_loop: BrowserLoop, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = request_session.RequestSession._build

    async def build_while_a_sign_in_lands(session: request_session.RequestSession) -> Any:
        jar = await built(session)
        if not landed:  # the first build read the old cookies; then a sign-in page lands
            landed.append(True)
            context = session._context
            page = await context.new_page()
            await page.goto(f"{portal.base}/signin")
            await page.close()
        return jar

    landed: list[bool] = []
    monkeypatch.setattr(request_session.RequestSession, "_build", build_while_a_sign_in_lands)

    async def work(browser: Browser) -> str:
        context = await browser.new_context(
            storage_state={"cookies": [_cookie(portal, "session", "old")], "origins": []}
        )
        try:
            return str((await get_json(context, f"{portal.base}/read"))["cookie"])
        finally:
            await context.close()

    assert browser_loop.run(work) == "session=walked"


def test_a_cleared_session_is_not_sent_again(browser_loop: BrowserLoop, portal: Portal) -> None:
    async def work(browser: Browser) -> tuple[str, str]:
        context = await browser.new_context(
            storage_state={"cookies": [_cookie(portal, "session", "old")], "origins": []}
        )
        try:
            first = (await get_json(context, f"{portal.base}/read"))["cookie"]
            await context.clear_cookies()
            cookies_changed(context)
            with pytest.raises(SessionExpired):
                await get_json(context, f"{portal.base}/private")
            return first, portal.seen[-1]["cookie"]
        finally:
            await context.close()

    assert browser_loop.run(work) == ("session=old", "")


def test_request_contexts_are_freed_as_reads_go_on_and_with_their_browser_context(
    browser_loop: BrowserLoop, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_session, "READS_PER_CONTEXT", 4)

    async def work(browser: Browser) -> tuple[list[bool], list[bool], list[str], int]:
        counted = _counted(browser)
        context = await browser.new_context()
        try:
            # a read setting the session, eight at once sending it, then another session
            await get_json(context, f"{portal.base}/read?session=s1")
            bodies = await asyncio.gather(
                *(get_json(context, f"{portal.base}/read") for _ in range(8))
            )
            await get_json(context, f"{portal.base}/read?session=s2")
            last = await get_json(context, f"{portal.base}/read")
            await asyncio.sleep(0.2)  # the disposals run as tasks of their own
            while_open = [await _disposed(api) for api in counted.made]
            await context.close()
            await asyncio.sleep(0.2)
            after_close = [await _disposed(api) for api in counted.made]
            assert context not in request_session._sessions  # nothing kept of it
            sent = [b["cookie"] for b in [*bodies, last]]
            return while_open, after_close, sent, len(counted.made)
        finally:
            own_requests(browser, counted._request)

    while_open, after_close, sent, made = browser_loop.run(work)
    assert made == 3  # eleven reads, four a request context
    assert while_open == [True, True, False]
    assert after_close == [True, True, True]
    assert sent == ["session=s1"] * 8 + ["session=s2"]


def test_a_browser_of_unknown_playwright_reads_through_its_context(
    browser_loop: BrowserLoop, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def work(browser: Browser) -> tuple[dict[str, Any], dict[str, str], bool]:
        monkeypatch.setattr(request_session, "_requests", type(request_session._requests)())
        context = await browser.new_context(
            storage_state={"cookies": [_cookie(portal, "session", "kept")], "origins": []}
        )
        try:
            body = await get_json(context, f"{portal.base}/read?seen=yes")
            return body, await _jar(context), session_of(context) is None
        finally:
            await context.close()

    body, jar, by_context = browser_loop.run(work)
    assert by_context
    assert body == {"cookie": "session=kept"}
    assert jar == {"session": "kept", "seen": "yes"}
