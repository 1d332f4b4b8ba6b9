"""Schedules persist in the database, fire into the scan queue once per fire time, and
coalesce missed runs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.crawl.firings import fire_once, this_process
from agent.crawl.scheduling import (
    ScheduleError,
    _store,
    crontab_trigger,
    job_id,
    list_schedules,
    remove_schedule,
    running_scheduler,
    set_schedule,
)
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, ScanRequest, ScheduleFiring


def _login(runtime: Runtime) -> int:
    with session_scope(runtime.engine) as session:
        summary = add_login(
            session,
            runtime.box,
            portal="xero",
            email="r@harbourco.example",
            password="pw",
            totp_secret=pyotp.random_base32(),
            base_url="http://127.0.0.1:1",
        )
    return summary.id


def test_schedules_survive_a_restart_and_can_be_replaced_and_removed(runtime: Runtime) -> None:
    login_id = _login(runtime)
    first = set_schedule(runtime, login_id, "0 6 * * 1-5", timezone="Pacific/Auckland")
    assert first.next_run_at is not None
    replaced = set_schedule(runtime, login_id, "30 7 * * *")
    # A new runtime over the same database is a restarted process.
    again = Runtime(runtime.settings)
    schedules = list_schedules(again)
    assert [(s.login_id, s.cron, s.timezone) for s in schedules] == [
        (login_id, "30 7 * * *", "UTC")
    ]
    assert schedules[0].next_run_at == replaced.next_run_at
    remove_schedule(again, login_id)
    assert list_schedules(runtime) == []
    with Session(runtime.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEvent))]
    assert actions.count("schedule.set") == 2
    assert "schedule.remove" in actions


def test_bad_cron_and_unknown_login_are_refused(runtime: Runtime) -> None:
    login_id = _login(runtime)
    with pytest.raises(ScheduleError, match="not a cron expression"):
        set_schedule(runtime, login_id, "every monday")
    with pytest.raises(ScheduleError, match="no login with id 999"):
        set_schedule(runtime, 999, "0 6 * * *")
    with pytest.raises(ScheduleError, match="has no schedule"):
        remove_schedule(runtime, login_id)


def test_missed_runs_are_coalesced_into_one_queued_crawl(runtime: Runtime) -> None:
    login_id = _login(runtime)
    set_schedule(runtime, login_id, "*/5 * * * *")
    with _store(runtime.engine) as store:  # the server was down for three runs
        job = store.lookup_job(job_id(login_id))
        job._modify(next_run_time=utcnow() - timedelta(minutes=16))
        store.update_job(job)
    with running_scheduler(runtime):
        deadline = time.monotonic() + 10
        requests: list[ScanRequest] = []
        while time.monotonic() < deadline and not requests:
            time.sleep(0.1)
            with Session(runtime.engine) as session:
                requests = list(session.exec(select(ScanRequest)))
        time.sleep(0.5)  # room for a second, wrong, run to show up
        with Session(runtime.engine) as session:
            requests = list(session.exec(select(ScanRequest)))
    assert [(r.login_id, r.source, r.status) for r in requests] == [
        (login_id, "schedule", "queued")
    ]
    (schedule,) = list_schedules(runtime)
    assert schedule.next_run_at is not None
    assert schedule.next_run_at > utcnow()


def _requests(runtime: Runtime) -> list[ScanRequest]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(ScanRequest).order_by(col(ScanRequest.id))))


def _firings(runtime: Runtime) -> list[ScheduleFiring]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(ScheduleFiring).order_by(col(ScheduleFiring.id))))


def test_a_fire_time_fires_once_and_the_next_one_fires_again(runtime: Runtime) -> None:
    """Fired a second time, a fire time queues nothing: it does not even reach the queue,
    whose "the same request returns the one queued" would not hold once the first
    crawl has run."""
    login_id = _login(runtime)
    due = utcnow().replace(second=0, microsecond=0)
    first = fire_once(runtime.engine, login_id, due, fired_by="server-a")
    assert first is not None
    assert fire_once(runtime.engine, login_id, due, fired_by="server-b") is None
    # the next fire time fires; no worker ran, so it finds the first request queued
    assert fire_once(runtime.engine, login_id, due + timedelta(minutes=1)) == first
    assert [r.id for r in _requests(runtime)] == [first]
    assert [(f.due_at, f.fired_by, f.request_id) for f in _firings(runtime)] == [
        (due, "server-a", first),
        (due + timedelta(minutes=1), this_process(), first),
    ]


def test_two_servers_firing_one_time_together_queue_one_crawl(runtime: Runtime) -> None:
    login_id = _login(runtime)
    due = utcnow().replace(second=0, microsecond=0)
    start = threading.Barrier(2)
    made: list[int | None] = []

    def fire(name: str) -> None:
        start.wait()
        made.append(fire_once(runtime.engine, login_id, due, fired_by=name))

    threads = [threading.Thread(target=fire, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    (request,) = _requests(runtime)
    assert sorted(made, key=str) == sorted([request.id, None], key=str)  # one of them: None
    assert [f.request_id for f in _firings(runtime)] == [request.id]


def test_a_new_leader_does_not_fire_again_what_the_last_one_fired(runtime: Runtime) -> None:
    """The leader queued the 06:00 crawl and died before moving the schedule on to the
    next 06:00: the server taking over finds 06:00 still due, and queues nothing."""
    login_id = _login(runtime)
    set_schedule(runtime, login_id, "0 6 * * *")
    due = crontab_trigger("0 6 * * *", "UTC").get_next_fire_time(None, utcnow() - timedelta(days=1))
    assert due is not None
    with _store(runtime.engine) as store:
        job = store.lookup_job(job_id(login_id))
        job._modify(next_run_time=due)
        store.update_job(job)
    fired = fire_once(runtime.engine, login_id, due, fired_by="the last leader")

    with running_scheduler(runtime) as leadership:
        assert leadership.leading
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            (schedule,) = list_schedules(runtime)
            if schedule.next_run_at is not None and schedule.next_run_at > utcnow():
                break
            time.sleep(0.1)
        time.sleep(0.5)  # room for a wrong request to be committed
    assert schedule.next_run_at is not None
    assert schedule.next_run_at > utcnow()
    assert [r.id for r in _requests(runtime)] == [fired]
    assert [(f.due_at, f.fired_by) for f in _firings(runtime)] == [(due, "the last leader")]


def test_a_fire_time_is_one_instant_in_any_time_zone(runtime: Runtime) -> None:
    """A schedule's trigger gives its fire times in the schedule's zone; the same
    instant written in UTC is the same firing."""
    login_id = _login(runtime)
    auckland = datetime(2027, 3, 8, 7, 0, tzinfo=ZoneInfo("Pacific/Auckland"))
    assert fire_once(runtime.engine, login_id, auckland) is not None
    assert fire_once(runtime.engine, login_id, auckland.astimezone(UTC)) is None
    (firing,) = _firings(runtime)
    assert firing.due_at == auckland
    assert len(_requests(runtime)) == 1
