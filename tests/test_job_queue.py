"""The job queue on PostgreSQL, piece by piece: jobs and their locks, procrastinate's
schema, stalled jobs put back, and a stopped worker's crawl resumed by the next.

Many worker processes at once are ``test_distributed_workers``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from agent.capture import OrgRef
from agent.crawl.queue import job_worker
from agent.crawl.queue.advisory import STALL_CHECK, turn
from agent.crawl.queue.job_worker import job_app, retry_stalled
from agent.crawl.queue.schema import (
    MARK,
    JobSchemaError,
    apply_migration,
    ensure_job_schema,
    migrations,
)
from agent.crawl.scan_queue import DONE, RUNNING, enqueue
from agent.crawl.worker import Worker
from agent.domain import Portal
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.services.scans import upsert_org_ids
from agent.settings import Settings
from agent.storage.db import make_engine, session_scope
from agent.storage.models import Scan, ScanRequest
from sandbox.generate import generate_world
from sandbox.portals import xero
from sandbox.portals.common import update_settings
from sandbox.serve import PortalServer
from tests.browser_loop import BrowserLoop
from tests.conftest import DATABASES, fresh_database

POSTGRESQL = [kind for kind in DATABASES if kind == "postgresql"]

#: what a schema is made of, to compare one upgraded with one made whole
SHAPE = """
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = current_schema()
UNION ALL
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type
  FROM information_schema.columns WHERE table_schema = current_schema()
UNION ALL
SELECT 'enum ' || t.typname || ' ' || e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema()
UNION ALL
SELECT 'index ' || replace(indexdef, current_schema() || '.', '') FROM pg_indexes
 WHERE schemaname = current_schema()
UNION ALL
SELECT 'trigger ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND NOT t.tgisinternal
"""


@pytest.fixture(params=POSTGRESQL)
def pg_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    with fresh_database(request.param, tmp_path) as url:
        runtime = Runtime(
            Settings(
                data_dir=tmp_path / "data",
                database_url_setting=url,
                practice_domains=["harbourco.example"],
            )
        )
        yield runtime
        runtime.engine.dispose()


@pytest.fixture(params=POSTGRESQL)
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new PostgreSQL schema with nothing in it."""
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _login(runtime: Runtime, n: int, base_url: str = "http://127.0.0.1:9") -> int:
    with session_scope(runtime.engine) as session:
        return add_login(
            session,
            runtime.box,
            portal="xero",
            email=f"robot{n}@harbourco.example",
            password="pw",
            totp_secret=pyotp.random_base32(),
            base_url=base_url,
        ).id


def _jobs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, status, lock, queueing_lock, args, attempts "
                "FROM procrastinate_jobs ORDER BY id"
            )
        )
        return [dict(row._mapping) for row in rows]


def _shape(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.exec_driver_sql(SHAPE).scalars())


def test_each_request_is_one_job_locked_by_the_login_it_crawls(pg_runtime: Runtime) -> None:
    runtime = pg_runtime
    a, b = _login(runtime, 1), _login(runtime, 2)
    with session_scope(runtime.engine) as session:
        upsert_org_ids(
            session, [OrgRef(portal=Portal.XERO, portal_org_id="!lstd1", name="Listed")], login_id=b
        )
    with session_scope(runtime.engine) as session:
        by_login = enqueue(session, requested_by="test", source="schedule", login_id=a)
        again = enqueue(session, requested_by="someone", source="api", login_id=a)
        listed = enqueue(
            session, requested_by="test", source="extension", portal="xero", portal_org_id="!lstd1"
        )
        unknown = enqueue(
            session, requested_by="test", source="extension", portal="xero", portal_org_id="!unkn1"
        )
    assert again.id == by_login.id, "asking again returns the queued request"
    with Session(runtime.engine) as session:
        rolled_back = enqueue(session, requested_by="test", source="api", login_id=b)
        assert rolled_back.job_id is not None
        session.rollback()
    jobs = _jobs(runtime.engine)
    assert [(j["lock"], j["queueing_lock"], j["args"]) for j in jobs] == [
        (f"login-{a}", f"scan:{a}::", {"request_id": by_login.id, "through_login": None}),
        (f"login-{b}", "scan::xero:!lstd1", {"request_id": listed.id, "through_login": b}),
        ("portal-xero", "scan::xero:!unkn1", {"request_id": unknown.id, "through_login": None}),
    ], "one job per request; a rolled back one leaves none"
    assert [r.job_id for r in (by_login, listed, unknown)] == [j["id"] for j in jobs]
    with session_scope(runtime.engine) as session:
        row = session.get(ScanRequest, by_login.id)
        assert row is not None
        row.status = RUNNING  # a worker has it
        session.add(row)
    with session_scope(runtime.engine) as session:
        running = enqueue(session, requested_by="test", source="api", login_id=a)
    assert running.id == by_login.id, "a running request is returned too, not queued again"
    assert len(_jobs(runtime.engine)) == 3
    with Session(runtime.engine) as session:
        assert len(list(session.exec(select(ScanRequest)))) == 3


def test_two_callers_asking_for_one_scan_at_once_get_one_request(pg_runtime: Runtime) -> None:
    runtime = pg_runtime
    login_id = _login(runtime, 1)
    ensure_job_schema(runtime.engine)
    first_queued = threading.Event()

    def first() -> int | None:
        with session_scope(runtime.engine) as session:
            request = enqueue(session, requested_by="first", source="api", login_id=login_id)
            first_queued.set()
            time.sleep(1.0)  # the second caller's job now waits on the queueing lock
            return request.id

    def second() -> int | None:
        assert first_queued.wait(30)
        with session_scope(runtime.engine) as session:
            return enqueue(session, requested_by="second", source="api", login_id=login_id).id

    with ThreadPoolExecutor(2) as pool:
        answers = [pool.submit(first), pool.submit(second)]
        ids = {answer.result(timeout=60) for answer in answers}
    assert len(ids) == 1
    assert len(_jobs(runtime.engine)) == 1
    with Session(runtime.engine) as session:
        assert [r.requested_by for r in session.exec(select(ScanRequest))] == ["first"]


def test_the_job_schema_upgrades_from_an_older_procrastinate(
    bare_engine: Engine, tmp_path: Path
) -> None:
    names = migrations()
    with bare_engine.connect() as connection:
        for name in names[:20]:  # as an older release of procrastinate left it
            apply_migration(connection, name)
    ensure_job_schema(bare_engine)
    with fresh_database("postgresql", tmp_path) as url:
        whole = make_engine(url)
        try:
            ensure_job_schema(whole)
            expected = _shape(whole)
        finally:
            whole.dispose()
    assert _shape(bare_engine) == expected
    with bare_engine.connect() as connection:
        comment = connection.exec_driver_sql(
            "SELECT obj_description(to_regclass('procrastinate_jobs'), 'pg_class')"
        ).scalar()
    assert comment == MARK + names[-1]


@pytest.mark.parametrize(
    ("mark", "refusal"),
    [
        ("99.00.00_01_from_the_future", "newer than the installed procrastinate"),
        (None, "does not say which procrastinate schema"),
    ],
)
def test_a_job_schema_that_cannot_be_read_is_refused_and_left_alone(
    bare_engine: Engine, mark: str | None, refusal: str
) -> None:
    with bare_engine.connect() as connection:
        apply_migration(connection, migrations()[0])
        if mark is None:
            connection.exec_driver_sql("COMMENT ON TABLE procrastinate_jobs IS NULL")
        else:
            connection.exec_driver_sql(f"COMMENT ON TABLE procrastinate_jobs IS '{MARK}{mark}'")
        connection.commit()
    before = _shape(bare_engine)
    with pytest.raises(JobSchemaError, match=refusal):
        ensure_job_schema(bare_engine)
    assert _shape(bare_engine) == before


def test_a_job_whose_worker_stopped_beating_is_put_back_once(pg_runtime: Runtime) -> None:
    runtime = pg_runtime
    dead, alive = _login(runtime, 1), _login(runtime, 2)
    with session_scope(runtime.engine) as session:
        lost = enqueue(session, requested_by="test", source="api", login_id=dead)
        busy = enqueue(session, requested_by="test", source="api", login_id=alive)
    with runtime.engine.begin() as connection:
        for request, silent_s in ((lost, 3600), (busy, 0)):
            worker_id = connection.execute(
                text(
                    "INSERT INTO procrastinate_workers (last_heartbeat) "
                    "VALUES (now() - make_interval(secs => :s)) RETURNING id"
                ),
                {"s": silent_s},
            ).scalar()
            connection.execute(
                text(
                    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :j"
                ),
                {"w": worker_id, "j": request.job_id},
            )

    async def check() -> tuple[list[int], list[int], list[int]]:
        app = job_app(runtime.engine)
        async with app.open_async():
            with turn(runtime.engine, STALL_CHECK) as mine:  # another worker is looking
                assert mine
                waiting = await retry_stalled(app, runtime.engine, stall_s=60)
            first = await retry_stalled(app, runtime.engine, stall_s=60)
            second = await retry_stalled(app, runtime.engine, stall_s=60)
        return waiting, first, second

    waiting, first, second = asyncio.run(check())
    assert waiting == [], "one worker at a time puts stalled jobs back"
    assert first == [lost.job_id]
    assert second == [], "put back once"
    states = {j["id"]: (j["status"], j["attempts"]) for j in _jobs(runtime.engine)}
    assert states == {lost.job_id: ("todo", 1), busy.job_id: ("doing", 0)}


@pytest.mark.browser
def test_a_stopped_worker_puts_its_job_back_and_the_next_resumes_the_crawl(
    pg_runtime: Runtime,
    browser_loop: BrowserLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = pg_runtime
    monkeypatch.setattr(job_worker, "SHUTDOWN_GRACE_S", 0.2)
    world = generate_world(5, staff=4, orgs_per_portal=40, users_per_org=1, portals=("xero",))
    login = world.logins[0]
    with PortalServer(xero.create_app(world)) as portal:
        update_settings(portal.app, latency_ms=500)  # a crawl slow enough to stop halfway
        with session_scope(runtime.engine) as session:
            login_id = add_login(
                session,
                runtime.box,
                portal="xero",
                email=login.email,
                password=login.password,
                totp_secret=login.totp_secret,
                base_url=portal.base_url,
            ).id
            request = enqueue(session, requested_by="test", source="api", login_id=login_id)

        def progress() -> ScanRequest:
            with Session(runtime.engine) as session:
                row = session.get(ScanRequest, request.id)
                assert row is not None
                return row

        async def stopped_mid_crawl(browser: Any) -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(
                Worker(runtime, browser=browser, poll_s=0.2).run_forever(stop)
            )
            deadline = time.monotonic() + 90
            while (await asyncio.to_thread(progress)).done < 5:
                assert time.monotonic() < deadline, "the crawl never got going"
                await asyncio.sleep(0.1)
            stop.set()
            await task

        browser_loop.run(stopped_mid_crawl)
        cut = progress()
        (job,) = _jobs(runtime.engine)
        assert (cut.status, job["status"], job["attempts"]) == (RUNNING, "todo", 1)
        with Session(runtime.engine) as session:
            first_half = len(list(session.exec(select(Scan))))
        assert 0 < first_half < 40
        update_settings(portal.app, latency_ms=0)
        ran = browser_loop.run(lambda browser: Worker(runtime, browser=browser).run_pending())
    assert ran == 1
    done = progress()
    assert (done.status, done.done, done.crawl_id) == (DONE, 40, cut.crawl_id)
    with Session(runtime.engine) as session:
        scans = list(session.exec(select(Scan)))
    assert len(scans) == 40
    assert len({s.org_id for s in scans}) == 40, "no org read twice"
    assert {s.crawl_id for s in scans} == {cut.crawl_id}, "one crawl, resumed"
    assert _jobs(runtime.engine) == [], "the job succeeded (and procrastinate deleted it)"
