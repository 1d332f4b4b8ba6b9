"""One rig per test module: portals, server, database and the extension's Chromium.

Launching Chromium with an extension needs a persistent context (about a second), and
filling the database takes one crawl per org, so a module builds the rig once and its
tests share it; each test works on orgs of its own (see ``harness``), so their order
does not matter. The database is PostgreSQL when the suite has one, else SQLite:
what the extension sees does not depend on the database, and the server's own tests
cover both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from agent.crawl.worker import Worker
from agent.runtime import Runtime
from agent.settings import Settings
from sandbox.world import World
from tests.browser_loop import BrowserLoop
from tests.conftest import DATABASES, PG_URL, fresh_database
from tests.extension import harness


@dataclass
class Rig:
    runtime: Runtime
    world: World
    portals: harness.Portals
    api: str
    ext: harness.Extension
    admin_id: int
    browser_loop: BrowserLoop

    def run_worker(self) -> int:
        """Run every queued scan request, as ``accessrecon worker`` would."""
        return self.browser_loop.run(
            lambda browser: Worker(self.runtime, browser=browser).run_pending()
        )

    def open(self, portal: str, path: str) -> Page:
        page = self.ext.new_page()
        page.goto(self.portals.url(portal, path))
        return page

    def ensure_paired(self) -> None:
        if not self.ext.storage().get("token"):
            self.ext.pair(harness.pairing_code(self.runtime, self.admin_id)).close()


@pytest.fixture(scope="module")
def rig(
    chromium_path: str, browser_loop: BrowserLoop, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("extension")
    kind = "postgresql" if PG_URL and "postgresql" in DATABASES else "sqlite"
    world = harness.build_world()
    with fresh_database(kind, base) as url, harness.serve_portals(world) as portals:
        settings = Settings(
            data_dir=base / "data", database_url_setting=url, practice_domains=[harness.DOMAIN]
        )
        runtime = Runtime(settings)

        def run_worker() -> int:
            return browser_loop.run(lambda browser: Worker(runtime, browser=browser).run_pending())

        admin_id = harness.seed(runtime, world, portals, base / "world", run_worker)
        with harness.serve_api(runtime) as api:
            ext = harness.launch_extension(chromium_path, Path(base / "profile"))
            try:
                harness.sign_in_everywhere(ext, world, portals)
                ext.set_server(api)
                rig = Rig(runtime, world, portals, api, ext, admin_id, browser_loop)
                rig.ensure_paired()
                yield rig
            finally:
                ext.close()
                runtime.engine.dispose()
