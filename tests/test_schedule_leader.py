"""One server of a deployment runs the schedules: two servers fire each schedule once per
fire time, and when the leader is killed the other takes over and fires the next one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.crawl.leader import leading, lock_key
from agent.crawl.scheduling import _store, job_id, list_schedules, set_schedule
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.storage.db import make_engine, session_scope
from agent.storage.models import ScanRequest, ScheduleFiring
from tests.conftest import DATABASES

POSTGRESQL = [kind for kind in DATABASES if kind == "postgresql"]
SQLITE = [kind for kind in DATABASES if kind == "sqlite"]


def _login(runtime: Runtime, n: int) -> int:
    with session_scope(runtime.engine) as session:
        summary = add_login(
            session,
            runtime.box,
            portal="xero",
            email=f"robot{n}@harbourco.example",
            password="pw",
            totp_secret=pyotp.random_base32(),
            base_url="http://127.0.0.1:1",
        )
    return summary.id


def _every_minute(runtime: Runtime, login_id: int, *, next_run_at: datetime) -> None:
    """A schedule every minute, next due at ``next_run_at`` (in the past: missed while no
    server ran), after which it keeps to its cron."""
    set_schedule(runtime, login_id, "* * * * *")
    with _store(runtime.engine) as store:
        job = store.lookup_job(job_id(login_id))
        job._modify(next_run_time=next_run_at)
        store.update_job(job)


def _firings(runtime: Runtime) -> list[ScheduleFiring]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(ScheduleFiring).order_by(col(ScheduleFiring.id))))


def _schedule_requests(runtime: Runtime) -> list[ScanRequest]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(ScanRequest).where(ScanRequest.source == "schedule")))


def _wait_for(check: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    """A real ``accessrecon serve --no-worker`` on a free port, over the test's database."""

    def __init__(self, runtime: Runtime, log: Path) -> None:
        self.port = _free_port()
        self.log = log
        env = {
            **os.environ,
            "ACCESSRECON_DATA_DIR": str(runtime.settings.data_dir),
            "ACCESSRECON_DATABASE_URL": runtime.settings.database_url,
        }
        command = ["-m", "accessrecon", "serve", "--no-worker", "--port", str(self.port)]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, *command], stdout=output, stderr=subprocess.STDOUT, env=env
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server stopped: {self.log.read_text(errors='replace')}")
            try:
                answer = httpx.get(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=1)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not start: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _pid(firing: ScheduleFiring) -> int:
    host, _, pid = firing.fired_by.partition(" pid ")
    assert host == socket.gethostname()
    return int(pid)


def _fired_at(runtime: Runtime, due: datetime, logins: list[int]) -> Callable[[], bool]:
    def fired() -> bool:
        return sorted(f.login_id for f in _firings(runtime) if f.due_at == due) == logins

    return fired


def _move_next_run(runtime: Runtime, login_id: int, next_run_at: datetime) -> None:
    with _store(runtime.engine) as store:
        job = store.lookup_job(job_id(login_id))
        job._modify(next_run_time=next_run_at)
        store.update_job(job)


@pytest.mark.long
@pytest.mark.parametrize("database_url", POSTGRESQL, indirect=True)
def test_two_servers_fire_each_schedule_once_and_the_survivor_takes_over(
    runtime: Runtime, tmp_path: Path
) -> None:
    logins = sorted(_login(runtime, n) for n in range(3))
    for login_id in logins:
        set_schedule(runtime, login_id, "* * * * *")

    servers = [_Server(runtime, tmp_path / f"serve-{name}.log") for name in ("a", "b")]
    try:
        for server in servers:
            server.wait_until_up()
        # The first minute with both servers up: each schedule fires once, from the leader.
        both_up = utcnow()
        first_due = both_up.replace(second=0, microsecond=0) + timedelta(minutes=1)
        _wait_for(
            _fired_at(runtime, first_due, logins),
            timeout_s=(first_due - both_up).total_seconds() + 30,
            what=f"the schedules to fire at {first_due:%H:%M}",
        )
        (leader_pid,) = {_pid(f) for f in _firings(runtime) if f.due_at == first_due}
        (leader,) = [s for s in servers if s.pid == leader_pid]
        (survivor,) = [s for s in servers if s.pid != leader_pid]
        time.sleep(1)  # the leader moves each schedule on to its next minute

        # The leader dies with the next fire time a few seconds away (moved from the
        # next minute, to keep the test short): the survivor takes over and fires it.
        second_due = utcnow().replace(microsecond=0) + timedelta(seconds=8)
        for login_id in logins:
            _move_next_run(runtime, login_id, second_due)
        leader.process.send_signal(signal.SIGKILL)
        killed_at = utcnow()
        assert leader.process.wait(timeout=10) == -signal.SIGKILL
        _wait_for(
            _fired_at(runtime, second_due, logins),
            timeout_s=40,
            what=f"the survivor to fire at {second_due:%H:%M:%S}",
        )
        time.sleep(3)  # room for a second firing, or a second request, to show up
        firings = _firings(runtime)
        requests = _schedule_requests(runtime)
        schedules = list_schedules(runtime)
    finally:
        for server in servers:
            server.stop()

    assert killed_at < second_due
    before = [f for f in firings if f.due_at < killed_at]
    after = [f for f in firings if f.due_at > killed_at]
    assert {_pid(f) for f in before} == {leader.pid}  # the standby never fired
    # simultaneous fire times are fired by a pool of threads, in no set order
    assert sorted((f.login_id, f.due_at) for f in after) == [(n, second_due) for n in logins]
    assert {_pid(f) for f in after} == {survivor.pid}
    assert all(f.fired_at - second_due < timedelta(seconds=15) for f in after)
    # Every fire time asked for a crawl, and nothing but a firing did. No worker ran:
    # each later fire time found its login's first request still queued.
    assert all(f.request_id is not None for f in firings)
    assert {f.request_id for f in firings} == {r.id for r in requests}
    assert sorted(r.login_id for r in requests) == logins
    # and the schedules keep to their cron: next due at the minute after
    for schedule in schedules:
        assert schedule.next_run_at is not None
        assert schedule.next_run_at > second_due
        assert (schedule.next_run_at.second, schedule.next_run_at.microsecond) == (0, 0)


@pytest.mark.parametrize("database_url", SQLITE, indirect=True)
def test_a_single_server_on_sqlite_fires_its_schedules(runtime: Runtime, tmp_path: Path) -> None:
    login_id = _login(runtime, 1)
    _every_minute(runtime, login_id, next_run_at=utcnow() - timedelta(minutes=3))
    server = _Server(runtime, tmp_path / "serve.log")
    try:
        server.wait_until_up()
        _wait_for(lambda: bool(_firings(runtime)), timeout_s=30, what="the schedule to fire")
        time.sleep(1)  # room for a second, wrong, firing
        firings = _firings(runtime)
        requests = _schedule_requests(runtime)
    finally:
        server.stop()
    assert {(f.login_id, _pid(f)) for f in firings} == {(login_id, server.pid)}
    assert len(firings) <= 2  # a minute's fire time may have come in the meantime
    # no worker ran: a second fire time found the first request still queued
    assert [r.id for r in requests] == [firings[0].request_id]
    (schedule,) = list_schedules(runtime)
    assert schedule.next_run_at is not None
    assert schedule.next_run_at > firings[-1].due_at


def _lock_holder(engine: Engine, name: str) -> int | None:
    """The PostgreSQL backend holding ``name``'s advisory lock, if any."""
    with engine.connect() as connection:
        database, schema = connection.execute(
            text("SELECT current_database(), current_schema()")
        ).one()
        key = lock_key(database, schema, name) & 0xFFFF_FFFF_FFFF_FFFF
        return connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
            ),
            {"high": key >> 32, "low": key & 0xFFFF_FFFF},
        ).scalar_one_or_none()


@pytest.mark.parametrize("database_url", POSTGRESQL, indirect=True)
def test_one_process_leads_and_another_takes_over_when_its_connection_goes(
    database_url: str, engine: Engine
) -> None:
    events: list[tuple[str, str]] = []

    @contextmanager
    def duty(who: str) -> Iterator[None]:
        events.append(("start", who))
        try:
            yield
        finally:
            events.append(("stop", who))

    engines = {who: make_engine(database_url) for who in ("a", "b")}
    try:
        with leading(engines["a"], "test", lambda: duty("a"), check_every_s=0.2) as a:
            assert a.leading
            holder = _lock_holder(engine, "test")
            assert holder is not None
            with leading(engines["b"], "test", lambda: duty("b"), check_every_s=0.2) as b:
                assert not b.leading
                time.sleep(0.6)
                assert events == [("start", "a")]
                # The database drops the leader's connection (a lost machine, a restart).
                with engine.connect() as connection:
                    connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
                _wait_for(lambda: b.leading and not a.leading, timeout_s=10, what="b to take over")
                # a runs on until its next check notices; the firings cover that moment
                assert events[0] == ("start", "a")
                assert sorted(events[1:]) == [("start", "b"), ("stop", "a")]
                time.sleep(1.5)
                assert not a.leading  # a tries again, and stands by while b leads
            _wait_for(lambda: a.leading, timeout_s=10, what="a to lead again once b stops")
        assert events[-3:] == [("stop", "b"), ("start", "a"), ("stop", "a")]
        assert _lock_holder(engine, "test") is None
    finally:
        for each in engines.values():
            each.dispose()


@pytest.mark.parametrize("database_url", POSTGRESQL, indirect=True)
def test_a_process_whose_duty_cannot_start_leaves_the_lead_to_another(
    database_url: str, engine: Engine
) -> None:
    @contextmanager
    def broken() -> Iterator[None]:
        raise RuntimeError("the schedules' store cannot be read")
        yield

    @contextmanager
    def sound() -> Iterator[None]:
        yield

    engines = [make_engine(database_url) for _ in range(2)]
    try:
        with leading(engines[0], "test", broken, check_every_s=0.2) as first:
            assert not first.leading
            assert _lock_holder(engine, "test") is None  # let go at once
            with leading(engines[1], "test", sound, check_every_s=0.2) as second:
                assert second.leading
                time.sleep(1.5)
                assert not first.leading
    finally:
        for each in engines:
            each.dispose()


def test_practices_in_schemas_of_their_own_elect_a_leader_each() -> None:
    keys = {lock_key("accessrecon", schema, "schedules") for schema in ("public", "p1", "p2")}
    assert len(keys) == 3
    assert all(-(2**63) <= key < 2**63 for key in keys)  # PostgreSQL's bigint
