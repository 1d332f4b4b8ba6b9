"""A person signs an interactive login in, in a browser they can see.

Some sign-ins need a person: a code the portal e-mails or texts, a push to a phone,
single sign-on, a CAPTCHA. For those logins (``SignInMethod.INTERACTIVE``)
``accessrecon login connect ID`` opens a visible Chromium at the portal's sign-in
page with the login's email filled in, and waits while the person does whatever the
portal asks. Once a page of the portal shows its org list (``SignInPages.landing``)
and the scraper confirms the portal accepts the session (``is_signed_in``), the
browser's storage state is saved encrypted, the login no longer needs sign-in, the
connection is audited, and the window closes. Headless crawls then use that state
(``agent.crawl.interactive``) until the portal stops accepting it.

Nothing is written before the sign-in is confirmed: a time limit, a window the
person closed or a portal that cannot be reached ends it with one line saying so
and the login as it was.

``connect_login`` takes a browser already launched, so the tests run it headless and
act as the person themselves; ``connect_in_visible_browser`` is what the command
runs. Headed Chromium needs a display: on Linux without one the command says so
(and how to get one) before launching anything, rather than opening a window nobody
can see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from sqlalchemy import Engine
from sqlmodel import Session

from agent.capture import ScanFailure
from agent.clock import utcnow
from agent.crawl.browser import launch_args
from agent.crawl.store import CrawlStore
from agent.domain import Portal
from agent.runtime import Runtime
from agent.scrapers import forms
from agent.scrapers.base import Scraper
from agent.scrapers.registry import scraper_for, sign_in_pages
from agent.scrapers.signin import SignInPages
from agent.scrapers.timeouts import scrape_timeout_ms
from agent.security.logins import LoginError
from agent.security.secrets import SecretBox
from agent.services.connections import interactive_login, record_connected
from agent.settings import ChromiumNotFound, Settings
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext

log = logging.getLogger(__name__)

#: how often the open pages are looked at while the person signs in
POLL_S = 0.25


class ConnectError(LoginError):
    """The login was not connected; the message says why. Nothing was changed."""


class ConnectTimedOut(ConnectError):
    """Nobody finished signing in within the time limit."""


@dataclass(frozen=True, slots=True)
class Connected:
    login_id: int
    portal: Portal
    email: str
    base_url: str
    connected_at: datetime


@dataclass(frozen=True, slots=True)
class _Target:
    """The login being connected, read before the browser opens."""

    login_id: int
    portal: Portal
    email: str
    base_url: str
    pages: SignInPages
    scraper: Scraper

    @property
    def sign_in_url(self) -> str:
        return f"{self.base_url}{self.pages.path}"

    def names(self) -> str:
        return f"login {self.login_id} ({self.portal} {self.email})"


def connect_target(engine: Engine, login_id: int) -> _Target:
    """The interactive login to connect, or a ``LoginError`` saying why it cannot be."""
    with Session(engine) as session:
        row: PortalLogin = interactive_login(session, login_id)
        portal = Portal(row.portal)
        return _Target(
            login_id, portal, row.email, row.base_url, sign_in_pages(portal), scraper_for(portal)
        )


async def connect_login(
    browser: Browser,
    engine: Engine,
    box: SecretBox,
    login_id: int,
    *,
    timeout_s: float,
    actor: str = "cli",
    now: datetime | None = None,
) -> Connected:
    """Open the portal's sign-in page in ``browser``, wait (up to ``timeout_s``) for a
    person to sign in, then keep the signed-in state; ``ConnectError`` otherwise.

    ``now`` is the time recorded as the connection (default: when it is recorded).
    """
    if timeout_s <= 0:
        raise ConnectError(f"the time limit must be positive, not {timeout_s:g} s")
    target = connect_target(engine, login_id)
    context = await browser.new_context(no_viewport=True)
    try:
        try:
            async with asyncio.timeout(timeout_s):
                await _open_sign_in(context, target)
                await _wait_until_signed_in(browser, context, target)
        except TimeoutError:
            raise ConnectTimedOut(
                f"{target.names()}: nobody finished signing in within {_duration(timeout_s)}; "
                "nothing was changed"
            ) from None
        state = await context.storage_state()
    except PlaywrightError as exc:
        raise ConnectError(
            f"{target.names()}: the browser went away before the sign-in finished "
            f"({_first_line(exc)}); nothing was changed"
        ) from None
    finally:
        with contextlib.suppress(PlaywrightError):
            await context.close()
    CrawlStore(engine, box).save_storage_state(login_id, state)
    with session_scope(engine) as session:
        row = record_connected(session, login_id=login_id, actor=actor, now=now or utcnow())
        assert row.connected_at is not None
        connected_at = row.connected_at
    return Connected(login_id, target.portal, target.email, target.base_url, connected_at)


async def _open_sign_in(context: BrowserContext, target: _Target) -> None:
    """The sign-in page, its email field filled in (a convenience: never fatal)."""
    page = await context.new_page()
    try:
        await forms.goto(page, target.sign_in_url)
    except ScanFailure as failure:
        raise ConnectError(
            f"{target.names()}: cannot open the sign-in page: {failure.detail}; nothing was changed"
        ) from None
    try:
        field = page.get_by_label(target.pages.email_label, exact=True)
        await field.fill(target.email, timeout=scrape_timeout_ms())
    except PlaywrightError as exc:
        log.warning(
            "the sign-in page shows no field labelled %r (%s): type the email yourself",
            target.pages.email_label,
            _first_line(exc),
        )


async def _wait_until_signed_in(browser: Browser, context: BrowserContext, target: _Target) -> None:
    """Until a page of the portal shows its org list and the portal accepts the session."""
    while True:
        pages = context.pages
        if not browser.is_connected() or not pages:
            raise ConnectError(
                f"{target.names()}: the browser window was closed before the sign-in "
                "finished; nothing was changed"
            )
        if any(_landed(p.url, target) for p in pages) and await _accepted(context, target):
            return
        await asyncio.sleep(POLL_S)


def _landed(url: str, target: _Target) -> bool:
    """Whether ``url`` is the portal's page a signed-in login lands on."""
    if not url.startswith(target.base_url.rstrip("/") + "/"):
        return False
    return target.pages.landing in urlsplit(url).path


async def _accepted(context: BrowserContext, target: _Target) -> bool:
    """The scraper's own check; a hiccup means "not yet" (the person may go on)."""
    try:
        return await target.scraper.is_signed_in(context, target.base_url)
    except (ScanFailure, PlaywrightError) as exc:
        log.info("the sign-in is not confirmed yet: %s", exc)
        return False


# -- the command's visible browser ------------------------------------------------------


def check_display(
    login_id: int, environ: Mapping[str, str] | None = None, platform: str | None = None
) -> None:
    """A visible browser needs a display; on Linux without one, say how to get one."""
    env = os.environ if environ is None else environ
    if (platform or sys.platform).startswith("linux") and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    ):
        raise ConnectError(
            "no display to open a browser window on (DISPLAY and WAYLAND_DISPLAY are not "
            f"set): run 'accessrecon login connect {login_id}' in a desktop session, or over "
            "'ssh -X' from one"
        )


def visible_launch_args(settings: Settings) -> dict[str, Any]:
    """The crawl's launch arguments, with a window."""
    return launch_args(settings, visible=True)


async def connect_in_visible_browser(
    runtime: Runtime, login_id: int, *, timeout_s: float, actor: str = "cli"
) -> Connected:
    """What ``accessrecon login connect`` runs: a visible Chromium for the person."""
    from playwright.async_api import async_playwright

    connect_target(runtime.engine, login_id)  # a wrong id costs no browser
    check_display(login_id)
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(**visible_launch_args(runtime.settings))
        except PlaywrightError as exc:
            if "Executable doesn't exist" in str(exc):
                raise ChromiumNotFound(
                    "no Chromium found: install Debian's 'chromium' package, or run "
                    "'playwright install chromium', or set ACCESSRECON_CHROMIUM_PATH"
                ) from exc
            raise ConnectError(f"cannot open a browser window: {_first_line(exc)}") from exc
        try:
            return await connect_login(
                browser, runtime.engine, runtime.box, login_id, timeout_s=timeout_s, actor=actor
            )
        finally:
            with contextlib.suppress(PlaywrightError):
                await browser.close()


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} s"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
