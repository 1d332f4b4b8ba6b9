"""Capture the sandbox's users pages with the extension and write them as fixture files.

Runs what a person does with "Save this page for support" (the real Chromium with the
unpacked extension, the three sandbox portals of the extension tests' world, the
accessrecon server on SQLite in a temporary directory), once in the portals' layout 1
and once in layout 2, and exports each saved fixture with what the shipped recipe
reads of it: ``tests/fixtures/portal/*.json``, which
``tests/test_portal_fixtures_regression.py`` replays.

    .venv/bin/python scripts/capture_portal_fixtures.py [--out tests/fixtures/portal]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accessrecon.commands.portal_fixtures import (  # noqa: E402
    facts_of,
    fixture_document,
    replay_with_browser,
)
from agent.domain import Portal  # noqa: E402
from agent.runtime import Runtime  # noqa: E402
from agent.scrapers.recipe_book import load_book  # noqa: E402
from agent.security.users import add_user  # noqa: E402
from agent.services.fixtures import fixture_of  # noqa: E402
from agent.settings import Settings  # noqa: E402
from agent.storage.db import session_scope  # noqa: E402
from agent.storage.models import PortalFixture  # noqa: E402
from sandbox.portals.common import update_settings  # noqa: E402
from tests.extension import harness  # noqa: E402
from tests.extension.conftest import Rig  # noqa: E402
from tests.extension.harness import MYOB_A, QBO_A, QBO_C  # noqa: E402
from tests.extension.test_support_fixtures import PAGES, save_for_support  # noqa: E402

#: what each captured org shows, for the files' names
SHOWS = {"!crit1": "hostile-names", QBO_A: "two-tabs", QBO_C: "paged", MYOB_A: "cards"}


def name_of(portal: str, org_id: str, layout: int) -> str:
    return f"{portal}-{SHOWS[org_id]}{'-layout2' if layout == 2 else ''}.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "portal")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    settings0 = Settings()
    chromium = settings0.chromium_executable
    if not chromium:
        print("no Chromium found", file=sys.stderr)
        return 1
    saved: list[tuple[int, str, PortalFixture]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        world = harness.build_world()
        settings = Settings(
            data_dir=base / "data",
            database_url_setting=f"sqlite:///{base / 'db.sqlite'}",
            practice_domains=[harness.DOMAIN],
        )
        runtime = Runtime(settings)
        with session_scope(runtime.engine) as session:
            admin = add_user(
                session, name="Ada Admin", role="practice_admin", scope="all", actor="x"
            )
        with harness.serve_portals(world) as portals, harness.serve_api(runtime) as api:
            ext = harness.launch_extension(chromium, base / "profile")
            try:
                harness.sign_in_everywhere(ext, world, portals)
                ext.set_server(api)
                ext.pair(harness.pairing_code(runtime, admin.id)).close()
                rig = Rig(runtime, world, portals, api, ext, admin.id, None)  # type: ignore[arg-type]
                for layout in (1, 2):
                    for portal, org_id, path in PAGES:
                        update_settings(portals.apps[portal], layout_version=layout)
                        opened: list = []
                        try:
                            saved.append(
                                (layout, org_id, save_for_support(rig, opened, portal, path))
                            )
                        finally:
                            for page in opened:
                                page.close()
            finally:
                ext.close()
                runtime.engine.dispose()
    for layout, org_id, row in saved:
        fixture = fixture_of(row)
        shipped = load_book()[Portal(row.portal)]
        result = asyncio.run(replay_with_browser(fixture, shipped, settings0))
        document = fixture_document(facts_of(row), fixture, result)
        target = out / name_of(row.portal, org_id, layout)
        target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        outcome = f"{len(result.users)} users" if result.ok else result.error
        print(f"{target}: {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
