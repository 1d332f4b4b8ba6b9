"""The practice ``accessrecon demo`` shows a newcomer, stored without a browser.

The reports are measured (``test_column_fit``) and printed for people to look at
(``test_libreoffice``, the pictures in docs/screenshots) on the names a practice
admin meets first, not only on names built to break a spreadsheet: the world the
demo generates with its own default seed and sizes, for the portals it crawls. Its
import files go through the practice's imports, each org's user list is recorded as
an ok scan with what the portal's page says of each user (as the crawl would record
it), and the practice is reconciled with the world's practice domains, so every row
is the product's own. The demo's admin user is added, who starts an access review.

The practice is built with the clock started at ``CRAWLED_AT``, half an hour before
the reports' ``AS_OF``, so the pictures say the same dates on every run, and no scan
is seen after the moment its report is "as of".
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import time_machine

from accessrecon.cli import demo
from accessrecon.demo import DEMO_ADMIN, _leaver_to_report
from agent.imports import PracticeRole
from agent.runtime import Runtime
from agent.scrapers.registry import registered_portals
from agent.security.principal import ClientScope
from agent.security.users import add_user
from agent.services.findings import reconcile
from agent.storage.db import session_scope
from sandbox.generate import generate_world
from sandbox.world import World
from tests.reports.conftest import AS_OF
from tests.test_world_truth_db import store_world

#: when the demo's crawl reads every org
CRAWLED_AT = AS_OF - timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class DemoPractice:
    world: World
    #: the leaver the demo writes its leaver report for: the one with the most access
    leaver_email: str
    #: the demo's practice admin, who starts an access review
    admin: str


def demo_world() -> World:
    """The world ``accessrecon demo`` generates when given no options."""
    option = inspect.signature(demo).parameters
    return generate_world(
        option["seed"].default,
        staff=option["staff"].default,
        orgs_per_portal=option["orgs"].default,
        users_per_org=option["users"].default,
        portals=tuple(p.value for p in registered_portals()),
    )


def build_demo_practice(
    runtime: Runtime, directory: Path, *, crawled_at: datetime = CRAWLED_AT
) -> DemoPractice:
    """The demo's practice in ``runtime``'s database as a crawl at ``crawled_at`` leaves
    it, its files written to ``directory``."""
    world = demo_world()
    with time_machine.travel(crawled_at, tick=True):
        store_world(runtime, world, directory)
        with session_scope(runtime.engine) as session:
            reconcile(session, configured_domains=world.practice_domains)
        with session_scope(runtime.engine) as session:
            add_user(
                session,
                name=DEMO_ADMIN,
                role=PracticeRole.PRACTICE_ADMIN,
                scope=ClientScope.ALL,
                actor="demo",
            )
    leaver = _leaver_to_report(world)
    assert leaver is not None, "the demo's world has a leaver with access"
    return DemoPractice(world=world, leaver_email=leaver, admin=DEMO_ADMIN)
