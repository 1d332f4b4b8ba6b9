"""A practice with a leaver's access in sandbox portals, crawled and ready to plan removals.

Each test gets its own world (removal changes it), its three portals served on real
sockets, the practice's files imported, one crawl settled, and two API users: the
proposer (a practice admin) and the approver (a partner).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette

from agent.crawl.pipeline import crawl_and_settle
from agent.imports import ImportKind, run_import
from agent.runtime import Runtime
from agent.security.principal import Principal
from agent.security.users import add_user, principal_of
from agent.storage.db import session_scope
from sandbox.generate import write_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import PortalSettings, runtime_of
from sandbox.scenarios import LeaverScenario
from sandbox.serve import PortalServer
from tests.browser_loop import BrowserLoop


@dataclass
class Practice:
    runtime: Runtime
    scenario: LeaverScenario
    apps: dict[str, Starlette] = field(default_factory=dict)
    proposer: Principal | None = None
    approver: Principal | None = None

    def removals(self, portal: str) -> list[tuple[str, str]]:
        """(org id, user id) of every removal the portal carried out, in order."""
        history = runtime_of(self.apps[portal]).removals
        return [
            (o.org_id, r.user_id)
            for o in self.scenario.world.orgs_of(portal)
            for r in history.of(o.org_id)
        ]

    def removal_requests(self) -> dict[tuple[str, str], int]:
        """Removal requests per (org id, user id) that reached any of the portals."""
        counts: dict[tuple[str, str], int] = {}
        for app in self.apps.values():
            counts.update(runtime_of(app).removals.requests())
        return counts

    def still_in(self, email: str) -> set[str]:
        """Org ids whose user list still holds ``email``."""
        return {
            o.org_id
            for o in self.scenario.world.orgs
            if any(u.email.lower() == email.lower() for u in o.users)
        }


@contextmanager
def practice(
    runtime: Runtime,
    browser_loop: BrowserLoop,
    scenario: LeaverScenario,
    tmp_path: Path,
    *,
    settings: PortalSettings | None = None,
) -> Iterator[Practice]:
    world = scenario.world
    files = write_world(world, tmp_path / "world")
    result = Practice(runtime, scenario)
    with ExitStack() as stack:
        for login in world.logins:
            app = create_portal_app(login.portal, world, settings)
            result.apps[login.portal] = app
            server = stack.enter_context(PortalServer(app))
            from agent.security.logins import add_login

            with session_scope(runtime.engine) as session:
                add_login(
                    session,
                    runtime.box,
                    portal=login.portal,
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=server.base_url,
                )
        for kind, path in (
            (ImportKind.STAFF, files.staff),
            (ImportKind.CLIENTS, files.clients),
            (ImportKind.ACCESS, files.access),
        ):
            run_import(runtime.engine, kind, path, practice_domains=world.practice_domains)
        browser_loop.run(
            lambda browser: crawl_and_settle(runtime, browser=browser, concurrency=3),
            timeout=300,
        )
        with session_scope(runtime.engine) as session:
            add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="test")
            add_user(session, name="Pat Partner", role="partner", scope="all", actor="test")
            result.proposer = principal_of(session, "Ada Admin")
            result.approver = principal_of(session, "Pat Partner")
        yield result
