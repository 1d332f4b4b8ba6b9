"""The rig for the dashboard tests: one practice, one server, one Chromium per module.

The practice (``tests.dashboard.world``) is built once per database and module,
served by uvicorn on a free loopback port exactly as ``accessrecon serve`` serves
it, and driven by a real headless Chromium; each test opens its own browser
context, so cookies never leak from one test to the next. Tests that change state
(reviews, re-scans, schedules) each touch their own finding or org.

Screenshots go to a temporary folder; set ACCESSRECON_SCREENSHOTS (for example to
docs/screenshots) to keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from agent.crawl.browser import QUIET_FLAGS
from agent.runtime import Runtime
from agent.settings import Settings
from agent.storage.db import upgrade_to_head
from sandbox.serve import PortalServer
from server.app import create_app
from tests.conftest import DATABASES, fresh_database
from tests.dashboard.world import DashboardWorld, build_world
from tests.extension.harness import SCREENSHOTS, free_port, pairing_code

VIEWPORT = {"width": 1280, "height": 860}


@dataclass
class Dashboard:
    """The served practice and the browser that looks at it."""

    world: DashboardWorld
    base: str
    browser: Browser
    dialogs: list[str] = field(default_factory=list)
    signed_in: dict[str, BrowserContext] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return self.world.runtime

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def context(self) -> BrowserContext:
        context = self.browser.new_context(base_url=self.base, viewport=VIEWPORT)  # type: ignore[arg-type]
        context.on("page", lambda page: page.on("dialog", self._dialog))
        return context

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(getattr(dialog, "message", "?"))
        dialog.dismiss()

    def sign_in(self, who: str) -> Page:
        """A new context signed in as ``who`` through the sign-in page, on the overview."""
        page = self.context().new_page()
        page.goto("/dashboard/login")
        page.get_by_label("Pairing code").fill(pairing_code(self.runtime, self.world.user_ids[who]))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.base}/dashboard")
        return page

    def page(self, who: str) -> Page:
        """A new page on the overview, in the module's one signed-in context for ``who``.

        Signing in once per person keeps the module quick; tests close their pages.
        """
        context = self.signed_in.get(who)
        if context is None:
            page = self.sign_in(who)
            self.signed_in[who] = page.context
            return page
        page = context.new_page()
        page.goto("/dashboard")
        return page

    def close(self) -> None:
        for context in self.signed_in.values():
            context.close()

    def screenshot(self, page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"dashboard-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                *QUIET_FLAGS,
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=DATABASES)
def dash(
    request: pytest.FixtureRequest, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    directory = tmp_path_factory.mktemp("dashboard")
    with fresh_database(request.param, directory) as url:
        settings = Settings(
            data_dir=directory / "data",
            database_url_setting=url,
            practice_domains=["harbourco.example"],
        )
        runtime = Runtime(settings)
        upgrade_to_head(runtime.engine)
        world = build_world(runtime)
        port = free_port()
        with PortalServer(create_app(runtime, port=port), port=port):
            dashboard = Dashboard(world, f"http://127.0.0.1:{port}", browser)
            yield dashboard
            dashboard.close()
        runtime.engine.dispose()
