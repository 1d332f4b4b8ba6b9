"""Build the screenshots' practice and serve its dashboard with the clock stopped.

Run as ``python -m tests.visual.frozen_server DATABASE_URL DATA_DIR PORT`` by the
visual tests' fixture: a child process, so that the frozen clock is the server's
alone. ``time_machine`` patches ``datetime``, ``date`` and ``time.time`` for the whole
process; the test process keeps the real clock its browser, its timeouts and its
database fixtures rely on. Inside the child, ``time.monotonic`` is left alone, so
uvicorn's event loop, its timers and its shutdown keep working while every "now" a
page computes (ages, days left, "as of") is ``SHOWN_AT``.

The child builds the practice too (``tests.visual.world``), under a clock started at
``BUILT_AT``, and signs nobody in: it issues one pairing code for each user, valid
for as long as its clock stands still, and prints the world's ids and those codes as
one JSON line, then serves until its standard input closes. The parent runs it with
``PYTHONHASHSEED=0``, so anything ordered by a set's iteration comes out the same on
every run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import time_machine

from agent.clock import utcnow
from agent.runtime import Runtime
from agent.security.pairing import format_code, issue_pairing_code
from agent.settings import Settings
from agent.storage.db import session_scope, upgrade_to_head
from sandbox.serve import PortalServer
from server.app import create_app
from tests.factories import DOMAIN
from tests.visual.world import BUILD_BUDGET, BUILT_AT, SHOWN_AT, build_visual_world

READY = "ready "


def main(argv: list[str]) -> int:
    database_url, data_dir, port_text = argv
    port = int(port_text)
    runtime = Runtime(
        Settings(
            data_dir=Path(data_dir),
            database_url_setting=database_url,
            practice_domains=[DOMAIN],
        )
    )
    upgrade_to_head(runtime.engine)  # before the clock starts: its minute is the build's
    with time_machine.travel(BUILT_AT, tick=True):
        world = build_visual_world(runtime)
        took = utcnow() - BUILT_AT
    if took > BUILD_BUDGET:
        print(
            f"the practice took {took.total_seconds():.1f} s to build, over the "
            f"{BUILD_BUDGET.total_seconds():.0f} s its fixed times allow",
            file=sys.stderr,
        )
        return 1
    with time_machine.travel(SHOWN_AT, tick=False):
        with session_scope(runtime.engine) as session:
            codes = {
                who: format_code(issue_pairing_code(session, user_id=uid, actor="test").code)
                for who, uid in world.user_ids.items()
            }
        with PortalServer(create_app(runtime, port=port), port=port):
            print(READY + json.dumps({"world": world.to_json(), "codes": codes}), flush=True)
            sys.stdin.read()  # serve until the parent closes our input
    runtime.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
