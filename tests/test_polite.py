"""A crawl is polite to the portal: paced, within its daily budget, slowed by a 429.

Each test serves one sandbox portal in-process with a ``RequestTally`` around it,
so what is asserted is what the portal saw (every request, and each one it refused),
not what the crawler says it sent. Real Chromium, real databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from accessrecon.cli import scan_problem
from agent.crawl.budgets import BUDGET_SPENT
from agent.crawl.crawler import Crawler
from agent.crawl.pace import pace_for
from agent.crawl.report import CrawlReport
from agent.crawl.store import FINISHED, INCOMPLETE
from agent.domain import ScanStatus
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.request_budget import used_on
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import BudgetDeferral, Crawl, Observation, Org, Scan
from sandbox.generate import generate_world
from sandbox.portals import create_portal_app
from sandbox.portals.common import PortalSettings
from sandbox.serve import PortalServer
from sandbox.tally import RequestTally
from sandbox.world import World
from tests.browser_loop import BrowserLoop

pytestmark = pytest.mark.browser

DAY = date(2026, 12, 6)


@contextmanager
def served(
    world: World, settings: Settings, limit_per_s: float | None = None
) -> Iterator[tuple[Runtime, RequestTally, int, str]]:
    """The world's one portal behind a tally, its login stored: the runtime, the tally,
    the login's id and the portal's host (``127.0.0.1:port``)."""
    login = world.logins[0]
    app = create_portal_app(login.portal, world, PortalSettings(rate_limit_per_s=limit_per_s))
    tally = RequestTally(app)
    runtime = Runtime(settings)
    try:
        with PortalServer(tally) as server:
            with session_scope(runtime.engine) as session:
                summary = add_login(
                    session,
                    runtime.box,
                    portal=login.portal,
                    email=login.email,
                    password=login.password,
                    totp_secret=login.totp_secret,
                    base_url=server.base_url,
                )
            yield runtime, tally, summary.id, f"{server.host}:{server.port}"
    finally:
        runtime.engine.dispose()


def crawl(
    runtime: Runtime, browser_loop: BrowserLoop, *, today: date, login_id: int | None = None
) -> CrawlReport:
    crawler = Crawler(runtime.engine, runtime.box, settings=runtime.settings, concurrency=4)
    return browser_loop.run(
        lambda browser: crawler.run(browser=browser, today=today, login_id=login_id), timeout=120
    )


def most_within(times: list[float], seconds: float) -> int:
    """The most requests that arrived within any span of ``seconds``."""
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def ok_scans(runtime: Runtime) -> dict[str, list[tuple[int | None, list[str]]]]:
    """Each org's ok scans: (crawl id, the emails it observed)."""
    with Session(runtime.engine) as session:
        found: dict[str, list[tuple[int | None, list[str]]]] = {}
        for scan, org in session.exec(
            select(Scan, Org).join(Org).where(Scan.status == ScanStatus.OK)
        ):
            emails = sorted(
                o.email
                for o in session.exec(select(Observation).where(Observation.scan_id == scan.id))
            )
            found.setdefault(org.portal_org_id, []).append((scan.crawl_id, emails))
        return found


def test_requests_keep_the_pace_the_portal_is_given(
    settings: Settings, browser_loop: BrowserLoop
) -> None:
    world = generate_world(41, staff=6, orgs_per_portal=100, users_per_org=3, portals=("xero",))
    paced = settings.model_copy(update={"portal_pace": {"xero": 10.0}})
    with served(world, paced) as (runtime, tally, _, _):
        report = crawl(runtime, browser_loop, today=DAY)
    assert report.ok == 100
    assert not report.failed
    times = tally.accepted_times()
    assert tally.rate_limited == 0
    # The pace over the whole crawl (some ten seconds), with room for a second's stall
    # of the portal's thread at its start: a pacer 1.2x too fast fails.
    burst = 5 + 1  # half a second's worth, and a sign-in's redirect
    assert (len(times) - burst) / (times[-1] - times[0]) <= 10 * 1.12
    # No flood: three seconds hold 30 requests and the burst, and what a busy machine
    # held back for up to a second in the portal's own thread (arrivals bunch after a
    # stall even when departures did not). A pacer at 1.3x, or a burst of 15, fails.
    assert most_within(times, 3.0) <= 30 + burst + 10


def test_a_spent_budget_leaves_the_rest_for_the_next_day_and_that_crawl_resumes(
    settings: Settings, browser_loop: BrowserLoop
) -> None:
    world = generate_world(43, staff=6, orgs_per_portal=30, users_per_org=3, portals=("xero",))
    users = {o.org_id: sorted(u.email for u in o.users) for o in world.orgs}
    budgeted = settings.model_copy(update={"portal_daily_budget": {"xero": 20}})
    with served(world, budgeted) as (runtime, tally, login_id, _):
        first = crawl(runtime, browser_loop, today=DAY)
        assert 0 < first.ok < 30
        assert dict(first.failed) == {BUDGET_SPENT: 30 - first.ok}
        assert tally.requests == used_on(runtime.engine, login_id, DAY) == 20
        assert "budget_spent" in (scan_problem(first, None) or "")
        with Session(runtime.engine) as session:
            scans = list(session.exec(select(Scan).where(Scan.crawl_id == first.crawl_id)))
            crawl_row = session.get(Crawl, first.crawl_id)
            deferral = session.exec(select(BudgetDeferral)).one()
        # the orgs left have no scan at all: never "no users", never a failure
        assert len(scans) == first.ok
        assert {s.status for s in scans} == {ScanStatus.OK}
        assert crawl_row is not None
        assert crawl_row.status == INCOMPLETE
        assert (deferral.crawl_id, deferral.day, deferral.orgs) == (
            first.crawl_id,
            DAY,
            30 - first.ok,
        )

        again = crawl(runtime, browser_loop, today=DAY)  # the same day: nothing is sent
        assert again.ok == 0
        assert again.failed[BUDGET_SPENT] == 30 - first.ok
        assert tally.requests == 20

        with session_scope(runtime.engine) as session:  # the next morning, 20 hours on
            for row in session.exec(select(Crawl)):
                assert row.finished_at is not None
                row.finished_at -= timedelta(hours=20)
                session.add(row)
        before = tally.requests
        nextday = crawl(runtime, browser_loop, today=DAY + timedelta(days=1))
    assert nextday.resumed
    assert nextday.crawl_id == first.crawl_id
    assert nextday.ok == 30 - first.ok
    assert not nextday.failed
    assert tally.requests - before == used_on(runtime.engine, login_id, DAY + timedelta(days=1))
    read = ok_scans(runtime)
    assert {org: [emails for _, emails in scans] for org, scans in read.items()} == {
        org: [emails] for org, emails in users.items()
    }
    with Session(runtime.engine) as session:
        assert session.get(Crawl, first.crawl_id).status == FINISHED  # type: ignore[union-attr]


def test_two_crawls_at_once_share_one_budget(settings: Settings, browser_loop: BrowserLoop) -> None:
    world = generate_world(47, staff=6, orgs_per_portal=30, users_per_org=2, portals=("xero",))
    budgeted = settings.model_copy(update={"portal_daily_budget": {"xero": 25}})
    with served(world, budgeted) as (runtime, tally, login_id, _):
        unlimited = Crawler(runtime.engine, runtime.box, settings=settings, concurrency=4)
        warm = browser_loop.run(lambda browser: unlimited.run(browser=browser), timeout=120)
        assert warm.ok == 30  # signed in, its browser state kept: no sign-in below
        before = tally.requests

        async def both(browser: object) -> tuple[CrawlReport, CrawlReport]:
            one, two = (
                Crawler(runtime.engine, runtime.box, settings=runtime.settings, concurrency=4)
                for _ in range(2)
            )
            first, second = await asyncio.gather(
                one.run(browser=browser, today=DAY),  # type: ignore[arg-type]
                two.run(browser=browser, today=DAY, login_id=login_id),  # type: ignore[arg-type]
            )
            return first, second

        first, second = browser_loop.run(both, timeout=120)
    sent = tally.requests - before
    assert sent == used_on(runtime.engine, login_id, DAY) == 25
    assert first.crawl_id != second.crawl_id
    # Each crawl checked its session and read the list, unless the other had spent the
    # budget by then (a busy machine can hold one back that long): a crawl that read no
    # list sent its check at most.
    listing = sum(1 for report in (first, second) if report.orgs_listed)
    spent_before_orgs = 2 * listing
    assert 25 - spent_before_orgs - (2 - listing) <= first.ok + second.ok
    assert first.ok + second.ok <= 25 - spent_before_orgs
    # every org a crawl did not read waits for the next day
    assert first.failed[BUDGET_SPENT] + second.failed[BUDGET_SPENT] == 60 - first.ok - second.ok


def test_429s_slow_the_pace_to_what_the_portal_takes(
    settings: Settings, browser_loop: BrowserLoop
) -> None:
    world = generate_world(53, staff=6, orgs_per_portal=40, users_per_org=3, portals=("xero",))
    eager = settings.model_copy(update={"portal_pace": {"xero": 20.0}})
    with served(world, eager, limit_per_s=5.0) as (runtime, tally, _, host):
        report = crawl(runtime, browser_loop, today=DAY)
    assert report.ok == 40
    assert not report.failed
    pace = pace_for(host, 20.0)  # the process's pace for the portal's host
    assert pace.slowdowns >= 1
    assert pace.rate <= 10.0
    assert pace.rate_limited == tally.rate_limited
    # At 20 a second against 5, three requests in four would be refused: a slowed
    # pace is refused a few times an episode, then keeps under the portal's limit.
    assert tally.rate_limited <= 0.25 * tally.requests, (tally.rate_limited, tally.requests)
    times = tally.accepted_times()
    assert (len(times[-40:]) - 1) / (times[-1] - times[-40]) <= 6.0
