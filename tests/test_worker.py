"""Queued re-scans run through the worker: one request, one crawl, progress, reconcile.

These hold on both queues: the in-process one (SQLite) and procrastinate's
(PostgreSQL). What only one of them does is tested on its database alone: the
in-process bell here, many workers in ``test_distributed_workers``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent.clock import utcnow
from agent.crawl.scan_queue import DONE, enqueue, on_enqueue
from agent.crawl.worker import Worker
from agent.imports import ImportKind, run_import
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.finding_lists import open_findings
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import RemovalPlan, Scan, ScanRequest
from sandbox.generate import generate_world, write_world
from sandbox.portals import xero
from sandbox.serve import PortalServer
from tests.browser_loop import BrowserLoop
from tests.conftest import fresh_database


@pytest.mark.browser
def test_a_queued_org_rescan_runs_once_and_reconciles(
    runtime: Runtime, browser_loop: BrowserLoop, tmp_path: Path
) -> None:
    world = generate_world(8, staff=8, orgs_per_portal=3, users_per_org=4, portals=("xero",))
    files = write_world(world, tmp_path / "world")
    target = world.orgs[1]
    with PortalServer(xero.create_app(world)) as portal:
        login = world.logins_of("xero")[0]
        with session_scope(runtime.engine) as session:
            add_login(
                session,
                runtime.box,
                portal="xero",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portal.base_url,
            )
        for kind, path in (
            (ImportKind.STAFF, files.staff),
            (ImportKind.CLIENTS, files.clients),
            (ImportKind.ACCESS, files.access),
        ):
            run_import(runtime.engine, kind, path, practice_domains=world.practice_domains)
        with session_scope(runtime.engine) as session:
            first = enqueue(
                session,
                requested_by="test",
                source="api",
                portal="xero",
                portal_org_id=target.org_id,
            )
            again = enqueue(
                session,
                requested_by="someone else",
                source="extension",
                portal="xero",
                portal_org_id=target.org_id,
            )
        assert again.id == first.id, "an identical queued request is not queued twice"
        ran = browser_loop.run(lambda browser: Worker(runtime, browser=browser).run_pending())
    assert ran == 1
    with Session(runtime.engine) as session:
        request = session.get(ScanRequest, first.id)
        scans = list(session.exec(select(Scan)))
        findings = open_findings(session)
    assert request is not None
    assert request.status == DONE
    assert (request.done, request.total, request.failed) == (1, 1, 0)
    assert len(scans) == 1
    assert scans[0].crawl_id == request.crawl_id
    assert {f.portal_org_id for f in findings} == {target.org_id}
    truth = {t.email.casefold() for t in world.truth if t.org_id == target.org_id}
    assert len(findings) == len(truth)


@pytest.fixture
def in_process_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """The in-process queue's database: SQLite, as ``accessrecon serve`` has by default."""
    with fresh_database("sqlite", tmp_path) as url:
        runtime = Runtime(Settings(data_dir=tmp_path / "data", database_url_setting=url))
        yield runtime
        runtime.engine.dispose()


def test_the_bell_rings_once_per_committed_request_and_never_for_a_rolled_back_one(
    in_process_runtime: Runtime,
) -> None:
    runtime = in_process_runtime
    rings: list[str] = []
    stop = on_enqueue(lambda: rings.append("ring"))
    try:
        with Session(runtime.engine) as session:
            enqueue(
                session, requested_by="test", source="api", portal="xero", portal_org_id="!abcde"
            )
            assert rings == [], "not before the commit: a worker would find nothing"
            session.rollback()
        assert rings == []
        with session_scope(runtime.engine) as session:
            enqueue(
                session, requested_by="test", source="api", portal="xero", portal_org_id="!abcde"
            )
        assert rings == ["ring"]
        with session_scope(runtime.engine) as session:  # already queued: nothing new
            enqueue(
                session, requested_by="test", source="api", portal="xero", portal_org_id="!abcde"
            )
        assert rings == ["ring"]
    finally:
        stop()
    with session_scope(runtime.engine) as session:
        enqueue(session, requested_by="test", source="api", portal="xero", portal_org_id="!fghij")
    assert rings == ["ring"], "a removed listener is not called"


@pytest.mark.browser
def test_a_dozing_worker_starts_a_request_queued_in_its_process_at_once(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    """``accessrecon serve``'s worker: a re-scan from the extension need not wait a poll
    (in-process, the enqueuer rings it; on PostgreSQL, the database notifies it)."""
    world = generate_world(9, staff=4, orgs_per_portal=1, users_per_org=2, portals=("xero",))
    target = world.orgs[0]
    with PortalServer(xero.create_app(world)) as portal:
        login = world.logins_of("xero")[0]
        with session_scope(runtime.engine) as session:
            add_login(
                session,
                runtime.box,
                portal="xero",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portal.base_url,
            )

        def queue() -> int:
            with session_scope(runtime.engine) as session:
                request = enqueue(
                    session,
                    requested_by="test",
                    source="extension",
                    portal="xero",
                    portal_org_id=target.org_id,
                )
                assert request.id is not None
                return request.id

        def status(request_id: int) -> str | None:
            with Session(runtime.engine) as session:
                row = session.get(ScanRequest, request_id)
                return row.status if row else None

        async def work(browser: object) -> float:
            stop = asyncio.Event()
            worker = Worker(runtime, browser=browser, poll_s=120)  # type: ignore[arg-type]
            task = asyncio.create_task(worker.run_forever(stop))
            await asyncio.sleep(0.3)  # it has found the queue empty and dozes
            queued_at = time.monotonic()
            request_id = await asyncio.to_thread(queue)
            while await asyncio.to_thread(status, request_id) != DONE:
                assert time.monotonic() - queued_at < 60, "the worker slept through it"
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - queued_at
            stop.set()
            await task
            return elapsed

        elapsed = browser_loop.run(work)
    assert elapsed < 60, "done long before the 120 s poll would have come round"


@pytest.mark.browser
def test_a_request_run_again_after_its_crawl_resumes_it_and_reads_nothing_twice(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    """A worker that died after its crawl but before finishing the request: the request
    runs again (procrastinate takes the job up again) and its crawl has nothing left."""
    world = generate_world(12, staff=4, orgs_per_portal=4, users_per_org=2, portals=("xero",))
    with PortalServer(xero.create_app(world)) as portal:
        login = world.logins[0]
        with session_scope(runtime.engine) as session:
            summary = add_login(
                session,
                runtime.box,
                portal="xero",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portal.base_url,
            )
            request = enqueue(session, requested_by="test", source="api", login_id=summary.id)
        assert browser_loop.run(lambda b: Worker(runtime, browser=b).run_request(request))
        with session_scope(runtime.engine) as session:
            row = session.get(ScanRequest, request.id)
            assert row is not None
            crawl_id = row.crawl_id
            row.status = "running"  # as its dead worker left it
            session.add(row)
        again = browser_loop.run(lambda b: Worker(runtime, browser=b).run_request(row))
    assert again is not None
    assert (again.crawl_id, again.resumed) == (crawl_id, True)
    assert (again.total, again.skipped_already_done) == (0, 4)
    with Session(runtime.engine) as session:
        finished = session.get(ScanRequest, request.id)
        scans = list(session.exec(select(Scan)))
    assert finished is not None
    assert (finished.status, finished.done, finished.total) == (DONE, 4, 4)
    assert sorted(s.crawl_id for s in scans) == [crawl_id] * 4, "each org read once"


@pytest.mark.browser
def test_a_removal_run_asked_for_is_run_once_by_the_worker(
    runtime: Runtime, browser_loop: BrowserLoop
) -> None:
    """On either queue: the plan's mark is taken up once and cleared, whatever the run
    found to do (here nothing approved: the run claims no item)."""
    with session_scope(runtime.engine) as session:
        plan = RemovalPlan(proposed_by="test", run_requested_at=utcnow(), run_requested_by="t")
        session.add(plan)
        session.flush()
        plan_id = plan.id
    ran = [
        browser_loop.run(lambda browser: Worker(runtime, browser=browser).run_pending())
        for _ in range(2)
    ]
    assert ran == [1, 0]
    with Session(runtime.engine) as session:
        done = session.get(RemovalPlan, plan_id)
    assert done is not None
    assert done.run_requested_at is None
