"""A person signing in an interactive login, played by a test, over a sandbox portal.

The sandbox portals sign these logins in by a code they e-mail (SPEC.md); the person
reads it from the sandbox's outbox as they would read their mailbox. Chromium runs
headless: ``connect_login`` takes the browser, so the test drives the page the
command opened exactly as a person drives the visible window.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from playwright.async_api import Browser, Page
from playwright.async_api import Error as PlaywrightError
from sqlmodel import Session, col, select

from agent.crawl.connect import Connected, connect_login
from agent.crawl.crawler import Crawler
from agent.crawl.report import CrawlReport
from agent.runtime import Runtime
from agent.security.logins import SignInMethod, add_login
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin, Scan
from sandbox.generate import generate_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import runtime_of
from sandbox.serve import PortalServer
from sandbox.world import World, WorldLogin
from tests.browser_loop import BrowserLoop

#: what the person sees: (email label, identifier button, password label, password
#: button, code button), as SPEC.md names them
FORMS = {
    "xero": ("Email address", None, "Password", "Log in", "Confirm"),
    "qbo": ("Email or user ID", "Continue", "Password", "Sign in", "Continue"),
    "myob": ("Email", None, "Password", "Sign in", "Verify"),
}
EMAILED_CODE = "Code we emailed you"
CONNECTED_AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


@dataclass
class Sandbox:
    """One portal of an e-mail-code world, its clock a test can move, and its login."""

    portal: str
    world: World
    server: PortalServer
    offset_s: float = 0.0

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def login(self) -> WorldLogin:
        return self.world.logins_of(self.portal)[0]

    @property
    def orgs(self) -> int:
        return len(self.world.orgs_of(self.portal))

    def now(self) -> float:
        return time.time() + self.offset_s

    def codes_sent(self) -> int:
        return len(runtime_of(self.server.app).email_codes.outbox(self.login.email))  # type: ignore[arg-type]


@contextlib.contextmanager
def sandbox(portal: str, seed: int = 61, orgs: int = 3) -> Iterator[Sandbox]:
    world = generate_world(
        seed,
        staff=6,
        orgs_per_portal=orgs,
        users_per_org=3,
        portals=(portal,),
        email_code_portals=(portal,),
    )
    app = create_portal_app(portal, world)
    with PortalServer(app) as server:
        running = Sandbox(portal, world, server)
        runtime_of(app).clock = running.now
        yield running


def add_interactive(runtime: Runtime, box: Sandbox) -> int:
    with session_scope(runtime.engine) as session:
        return add_login(
            session,
            runtime.box,
            portal=box.portal,
            email=box.login.email,
            base_url=box.base_url,
            method=SignInMethod.INTERACTIVE,
        ).id


async def opened_page(browser: Browser, before: set[object], base_url: str) -> Page:
    """The window ``login connect`` opened at the portal, as a person finds it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for context in browser.contexts:
            if context not in before:
                for page in context.pages:
                    if page.url.startswith(base_url):
                        return page
        await asyncio.sleep(0.05)
    raise AssertionError(f"no page was opened at {base_url}")


async def sign_in_as_person(page: Page, box: Sandbox) -> None:
    """What the person does: check the email, give the password, read the mailbox."""
    email_label, identifier_button, password_label, password_button, code_button = FORMS[box.portal]
    email = page.get_by_label(email_label, exact=True)
    for _ in range(100):
        if await email.input_value() == box.login.email:
            break
        await asyncio.sleep(0.05)
    assert await email.input_value() == box.login.email, "the email was filled in"
    if identifier_button:
        await page.get_by_role("button", name=identifier_button, exact=True).click()
    await page.get_by_label(password_label, exact=True).fill(box.login.password)
    await page.get_by_role("button", name=password_button, exact=True).click()
    code = page.get_by_label(EMAILED_CODE, exact=True)
    await code.wait_for()
    mailbox = await page.request.get(f"{box.base_url}/_outbox", params={"email": box.login.email})
    await code.fill((await mailbox.json())["codes"][0]["code"])
    with contextlib.suppress(PlaywrightError):  # the window may close as it lands
        await page.get_by_role("button", name=code_button, exact=True).click()


def connect_as_person(
    browser_loop: BrowserLoop, runtime: Runtime, login_id: int, box: Sandbox
) -> Connected:
    async def work(browser: Browser) -> Connected:
        before: set[object] = set(browser.contexts)
        connecting = asyncio.ensure_future(
            connect_login(
                browser,
                runtime.engine,
                runtime.box,
                login_id,
                timeout_s=90,
                now=CONNECTED_AT,
            )
        )
        try:
            page = await opened_page(browser, before, box.base_url)
            await sign_in_as_person(page, box)
        except BaseException:
            connecting.cancel()
            raise
        return await connecting

    return browser_loop.run(work)


def crawl(runtime: Runtime, browser_loop: BrowserLoop) -> CrawlReport:
    crawler = Crawler(runtime.engine, runtime.box, settings=runtime.settings, concurrency=4)
    return browser_loop.run(lambda browser: crawler.run(browser=browser), timeout=300)


def login_row(runtime: Runtime, login_id: int) -> PortalLogin:
    with Session(runtime.engine) as session:
        row = session.get(PortalLogin, login_id)
        assert row is not None
        return row


def scans(runtime: Runtime) -> list[Scan]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(Scan).order_by(col(Scan.id))))


def cli(
    runtime: Runtime, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``accessrecon ARGS`` in a process of its own, on the test's database."""
    return subprocess.run(
        [sys.executable, "-m", "accessrecon", *args],
        env={
            **os.environ,
            "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
            "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
            **(env or {}),
        },
        input="",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
