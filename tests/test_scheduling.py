"""Schedules persist in the database, fire into the scan queue, and coalesce missed runs."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from agent.clock import utcnow
from agent.crawl.scheduling import (
    ScheduleError,
    _store,
    job_id,
    list_schedules,
    remove_schedule,
    running_scheduler,
    set_schedule,
)
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, ScanRequest


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
