"""The crawler under faults: it never records a failure as "no users".

Three portals with injected errors, timeouts, rate limits and expiring sessions;
a layout change; a crawl killed with SIGKILL and run again. Every org must end
``ok`` with exactly the world's users, or ``failed`` with a reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, aclosing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, select

from agent.capture import LayoutChanged, OrgRef
from agent.crawl.crawler import Crawler
from agent.crawl.report import CrawlReport
from agent.domain import FailureReason, ScanStatus
from agent.imports import ImportKind, run_import
from agent.runtime import Runtime
from agent.scrapers.recipe_book import load_book
from agent.scrapers.recipe_scraper import RecipeScraper
from agent.security.logins import add_login
from agent.services.finding_lists import open_findings
from agent.services.findings import reconcile
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Crawl, Observation, Org, Scan
from sandbox.generate import generate_world, write_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import update_settings
from sandbox.serve import PortalServer
from sandbox.world import World
from tests.browser_loop import BrowserLoop

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

pytestmark = pytest.mark.browser

REASONS = {r.value for r in FailureReason}
#: clients on one page of the qbo client list (portals/SPEC.md)
CLIENTS_PAGE = 50


class Portals:
    """The world's three portals, served, with the agent's logins stored."""

    def __init__(self, world: World, runtime: Runtime, stack: ExitStack) -> None:
        self.servers: dict[str, PortalServer] = {}
        for login in world.logins:
            server = stack.enter_context(PortalServer(create_portal_app(login.portal, world)))
            self.servers[login.portal] = server
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

    def set(self, **changes: object) -> None:
        for server in self.servers.values():
            update_settings(server.app, **changes)


@pytest.fixture
def fast_runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime whose scrapes give up on a silent portal after 2 s, not 20."""
    runtime = Runtime(settings.model_copy(update={"scrape_timeout_s": 2.0}))
    yield runtime
    runtime.engine.dispose()


def crawl(runtime: Runtime, browser_loop: BrowserLoop, concurrency: int = 4) -> CrawlReport:
    crawler = Crawler(
        runtime.engine, runtime.box, settings=runtime.settings, concurrency=concurrency
    )
    return browser_loop.run(lambda browser: crawler.run(browser=browser), timeout=240)


def scans_of(runtime: Runtime, crawl_id: int) -> list[tuple[Scan, Org, list[Observation]]]:
    with Session(runtime.engine) as session:
        rows = session.exec(select(Scan, Org).join(Org).where(Scan.crawl_id == crawl_id)).all()
        return [
            (
                scan,
                org,
                list(session.exec(select(Observation).where(Observation.scan_id == scan.id))),
            )
            for scan, org in rows
        ]


def assert_ok_scans_equal_the_world(runtime: Runtime, world: World, crawl_id: int) -> int:
    """Each org scanned once; ok scans hold exactly its users; failures have a reason."""
    users = {(o.portal, o.org_id): sorted(u.email for u in o.users) for o in world.orgs}
    scans = scans_of(runtime, crawl_id)
    assert sorted((o.portal, o.portal_org_id) for _, o, _ in scans) == sorted(users)
    ok = 0
    for scan, org, observations in scans:
        if scan.status == ScanStatus.OK:
            assert sorted(o.email for o in observations) == users[(org.portal, org.portal_org_id)]
            assert scan.user_count == scan.reported_total == len(observations)
            ok += 1
        else:
            assert scan.status == ScanStatus.FAILED
            assert scan.reason in REASONS, scan.reason
            assert observations == []
    return ok


@pytest.mark.long
def test_chaos_ends_every_org_ok_with_the_worlds_users_or_failed_with_a_reason(
    fast_runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    world = generate_world(13, staff=8, orgs_per_portal=6, users_per_org=8)
    with ExitStack() as stack:
        portals = Portals(world, fast_runtime, stack)
        first = crawl(fast_runtime, browser_loop)  # sign in while the portals are calm
        assert first.ok == len(world.orgs)
        portals.set(
            error_rate=0.10,
            timeout_rate=0.05,
            rate_limit_per_s=25.0,
            session_expiry_requests=30,
            seed=5,
        )
        second = crawl(fast_runtime, browser_loop)
    ok = assert_ok_scans_equal_the_world(fast_runtime, world, second.crawl_id)
    assert ok == second.ok
    assert ok >= len(world.orgs) * 3 // 4, f"retries should carry most orgs: {second.failed}"
    # The faults really happened, and were carried by retries and new sign-ins.
    assert second.retries["portal_error"] > 0
    assert second.retries["timeout"] > 0
    assert second.sign_ins > 0


def test_layout_change_fails_every_org_and_keeps_the_last_good_findings(
    fast_runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    world = generate_world(17, staff=8, orgs_per_portal=3, users_per_org=5)
    files = write_world(world, tmp_path / "world")
    for kind, path in (
        (ImportKind.STAFF, files.staff),
        (ImportKind.CLIENTS, files.clients),
        (ImportKind.ACCESS, files.access),
    ):
        run_import(fast_runtime.engine, kind, path, practice_domains=world.practice_domains)
    with ExitStack() as stack:
        portals = Portals(world, fast_runtime, stack)
        crawl(fast_runtime, browser_loop)
        with session_scope(fast_runtime.engine) as session:
            reconcile(session, configured_domains=world.practice_domains)
            before = open_findings(session)
        portals.set(layout_version=2)
        changed = crawl(fast_runtime, browser_loop)
    assert changed.ok == 0
    assert dict(changed.failed) == {FailureReason.LAYOUT_CHANGED: len(world.orgs)}
    with session_scope(fast_runtime.engine) as session:
        reconcile(session, configured_domains=world.practice_domains)
        after = open_findings(session)
    assert [(f.portal_org_id, f.email, f.finding_class) for f in after] == [
        (f.portal_org_id, f.email, f.finding_class) for f in before
    ]


def test_a_list_of_several_pages_is_scanned_whole_and_a_list_cut_short_fails_the_rest(
    fast_runtime: Runtime, browser_loop: BrowserLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orgs are scanned while the list is read; what the list never reached fails with why."""
    world = generate_world(
        23, staff=6, orgs_per_portal=CLIENTS_PAGE + 9, users_per_org=2, portals=("qbo",)
    )
    with ExitStack() as stack:
        Portals(world, fast_runtime, stack)
        whole = crawl(fast_runtime, browser_loop)
        assert (whole.orgs_listed, whole.ok) == (len(world.orgs), len(world.orgs))
        assert assert_ok_scans_equal_the_world(fast_runtime, world, whole.crawl_id) == whole.ok

        class CutShort(RecipeScraper):
            """The portal's list, until its second page changes under the crawler."""

            async def org_pages(
                self, context: BrowserContext, base_url: str
            ) -> AsyncIterator[Sequence[OrgRef]]:
                async with aclosing(super().org_pages(context, base_url)) as pages:
                    async for page in pages:
                        yield page
                        raise LayoutChanged("the client list's second page has no table")

        cut_short = CutShort(load_book()["qbo"])
        monkeypatch.setattr("agent.crawl.login.scraper_for", lambda portal, book=None: cut_short)
        cut = crawl(fast_runtime, browser_loop)
    assert cut.orgs_listed == CLIENTS_PAGE
    assert cut.ok == CLIENTS_PAGE
    assert cut.failed == {"layout_changed": len(world.orgs) - CLIENTS_PAGE}
    assert [(p, reason) for p, _, reason, _ in cut.login_failures] == [("qbo", "layout_changed")]
    # every org once: the listed ones ok with their users, the rest failed with the reason
    assert assert_ok_scans_equal_the_world(fast_runtime, world, cut.crawl_id) == CLIENTS_PAGE


def test_a_crawl_killed_mid_run_resumes_without_losing_or_repeating_a_scan(
    runtime: Runtime, tmp_path: Path
) -> None:
    world = generate_world(19, staff=6, orgs_per_portal=12, users_per_org=3, portals=("xero",))
    env = {
        **os.environ,
        "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
        "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
        "ACCESSRECON_CRAWL_CONCURRENCY": "2",
    }
    command = [sys.executable, "-m", "accessrecon", "scan"]
    with ExitStack() as stack:
        portals = Portals(world, runtime, stack)
        portals.set(latency_ms=400)  # slow enough to kill the crawl half way
        first = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 90
        done = 0
        while time.monotonic() < deadline and done < 4:
            time.sleep(0.2)
            with Session(runtime.engine) as session:
                done = len(session.exec(select(Scan.id)).all())
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert 4 <= done < len(world.orgs), f"the kill came at {done} scans"
        portals.set(latency_ms=0)
        second = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    assert second.returncode == 0, second.stderr
    assert "(resumed)" in second.stdout
    with Session(runtime.engine) as session:
        crawls = list(session.exec(select(Crawl)))
        scans = list(session.exec(select(Scan)))
    assert len(crawls) == 1
    assert crawls[0].status == "finished"
    per_org: dict[int, int] = {}
    for scan in scans:
        per_org[scan.org_id] = per_org.get(scan.org_id, 0) + 1
    assert len(per_org) == len(world.orgs)
    assert set(per_org.values()) == {1}, "a finished scan was lost or repeated"
    assert all(s.status == ScanStatus.OK for s in scans)
