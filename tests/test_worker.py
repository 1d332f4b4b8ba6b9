"""Queued re-scans run through the worker: one request, one crawl, progress, reconcile."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from agent.crawl.scan_queue import DONE, enqueue, on_enqueue
from agent.crawl.worker import Worker
from agent.imports import ImportKind, run_import
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.finding_lists import open_findings
from agent.storage.db import session_scope
from agent.storage.models import Scan, ScanRequest
from sandbox.generate import generate_world, write_world
from sandbox.portals import xero
from sandbox.serve import PortalServer
from tests.browser_loop import BrowserLoop


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


def test_the_bell_rings_once_per_committed_request_and_never_for_a_rolled_back_one(
    runtime: Runtime,
) -> None:
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
    """``accessrecon serve``'s worker: a re-scan from the extension need not wait a poll."""
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
