"""The visual tests' rig: the fixed practice served with a frozen clock, one Chromium.

The dashboard tests serve their practice in the test process; here the practice is
built and served by a child process (``tests.visual.frozen_server``) whose clock is
stopped at ``SHOWN_AT``, on a fresh database of each configured kind. Chromium is the
dashboard tests' (``tests.dashboard.conftest``'s launch flags), and each viewer's
browser context has its page clock paused at the same instant, so no page's script
ever polls or redraws between loading and the screenshot.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import DATABASES, fresh_database
from tests.dashboard.conftest import browser  # noqa: F401 (the module's Chromium)
from tests.extension.harness import free_port
from tests.visual.frozen_server import READY
from tests.visual.pages import SIGNED_OUT, Shot
from tests.visual.world import SHOWN_AT, VisualWorld

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (1366, 1024)
HEIGHT = 768
START_TIMEOUT_S = 90


@dataclass
class FrozenDashboard:
    """The served practice, the pairing codes of its users, and one browser page per
    viewer (signed in on first use, kept for the module: a new page costs more than
    the screenshot)."""

    base: str
    world: VisualWorld
    codes: dict[str, str]
    browser: Browser
    log: Path  # the serving process's standard error
    pages: dict[str, Page] = field(default_factory=dict)

    def page(self, who: str) -> Page:
        """``who``'s page, signed in through the sign-in page (``SIGNED_OUT``: never)."""
        if who in self.pages:
            return self.pages[who]
        context = self.browser.new_context(
            base_url=self.base,
            viewport={"width": WIDTHS[0], "height": HEIGHT},
            reduced_motion="reduce",
        )
        context.clock.install(time=SHOWN_AT - timedelta(minutes=1))
        context.clock.pause_at(SHOWN_AT)
        page = context.new_page()
        if who != SIGNED_OUT:
            page.goto("/dashboard/login")
            page.get_by_label("Pairing code").fill(self.codes[who])
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{self.base}/dashboard")
        self.pages[who] = page
        return page

    def open(self, shot: Shot, width: int) -> tuple[Page, str]:
        """``shot``'s viewer's page on its address at ``width``, loaded, its fonts ready;
        and what is wrong with the server's answer, if anything."""
        page = self.page(shot.who)
        page.set_viewport_size({"width": width, "height": HEIGHT})
        response = page.goto(shot.address(self.world))
        page.evaluate("document.fonts.ready.then(() => true)")
        status = response.status if response is not None else 0
        if status != shot.status:
            return page, (
                f"{shot.name}-{width}: the server answered {status}, not {shot.status} "
                f"(its log: {self.log})"
            )
        return page, ""

    def screenshot(self, page: Page) -> bytes:
        return page.screenshot(full_page=True, animations="disabled", caret="hide")

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def _child_environment() -> dict[str, str]:
    """The test process's environment less the product's settings, with fixed hashing."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ACCESSRECON_") and k != "DATABASE_URL"
    }
    env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT))
    return env


def _ready_line(child: subprocess.Popen[str], log: Path) -> dict[str, object]:
    assert child.stdout is not None
    readable, _, _ = select.select([child.stdout], [], [], START_TIMEOUT_S)
    line = child.stdout.readline() if readable else ""  # one line, or nothing at exit
    if not line.startswith(READY):
        child.kill()
        child.wait()
        pytest.fail(f"the frozen dashboard did not start: {log.read_text()[-2000:]}")
    ready: dict[str, object] = json.loads(line[len(READY) :])
    return ready


@pytest.fixture(scope="module", params=DATABASES)
def frozen(
    request: pytest.FixtureRequest,
    browser: Browser,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FrozenDashboard]:
    directory = tmp_path_factory.mktemp("visual")
    log = directory / "server.log"
    with fresh_database(request.param, directory) as url:
        port = free_port()
        with log.open("w") as errors:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.visual.frozen_server",
                    url,
                    str(directory / "data"),
                    str(port),
                ],
                cwd=directory,
                env=_child_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            try:
                ready = _ready_line(child, log)
                world = VisualWorld.from_json(ready["world"])  # type: ignore[arg-type]
                codes: dict[str, str] = ready["codes"]  # type: ignore[assignment]
                dashboard = FrozenDashboard(f"http://127.0.0.1:{port}", world, codes, browser, log)
                yield dashboard
                dashboard.close()
            finally:
                assert child.stdin is not None
                child.stdin.close()
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
