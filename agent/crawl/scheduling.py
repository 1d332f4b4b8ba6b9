"""Crawls that run themselves: a cron schedule per portal login.

APScheduler keeps the schedules in the product's database (``scheduled_job``, made
by a migration like every other table), so they survive restarts and every process
of a deployment sees the same ones. Only one server runs them: the leader
(``agent.crawl.leader``; on SQLite the one process), so a deployment of several
servers fires each schedule once. A schedule firing does not crawl by itself: it
enqueues a request on the one scan queue that manual re-scans use, so a scheduled
crawl and a re-scan of the same login never run at once, and records the firing
(``agent.crawl.firings``), so a fire time a dying leader already acted on is not
acted on again by the next. Missed runs (the server was down at the time, or the
leader changed) are coalesced into one run as soon as a leader runs the schedules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from agent.clock import utcnow
from agent.crawl.firings import DueTimeExecutor, fire_once
from agent.crawl.leader import Leadership, leading
from agent.runtime import Runtime
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, PortalLogin

log = logging.getLogger(__name__)

JOB_TABLE = "scheduled_job"
WAKE_EVERY_S = 30
HOUSEKEEPING = "housekeeping"

#: The runtime scheduled jobs use: set by ``running_scheduler``; jobs are stored by
#: reference, so nothing about the database (its URL, its password) is pickled.
_runtime: Runtime | None = None


class ScheduleError(ValueError):
    """A schedule that cannot be set: a bad cron expression or an unknown login."""


@dataclass(frozen=True, slots=True)
class Schedule:
    login_id: int
    cron: str
    timezone: str
    next_run_at: datetime | None


def job_id(login_id: int) -> str:
    return f"crawl-login-{login_id}"


def crawl_login_now(login_id: int, due_at: datetime | None = None) -> None:
    """What a schedule runs: queue a crawl of the login, once for its fire time ``due_at``.

    The scheduler's executor always gives ``due_at``; the default exists because
    APScheduler checks a job's function can be called with the job's own arguments.
    """
    if _runtime is None:
        log.error("a schedule fired with no runtime set; nothing queued")
        return
    fire_once(_runtime.engine, login_id, due_at or utcnow())


def _scheduler(engine: Engine) -> BackgroundScheduler:
    return BackgroundScheduler(
        # "memory" holds the scheduler's own housekeeping, which is never persisted,
        # run by an executor of its own: the default one passes schedules their due time.
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE),
            "memory": MemoryJobStore(),
        },
        executors={"default": DueTimeExecutor(), HOUSEKEEPING: ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone="UTC",
    )


@contextmanager
def _store(engine: Engine) -> Iterator[SQLAlchemyJobStore]:
    """The job store alone, to read and change schedules without ever running them.

    No scheduler thread is started: one would race to run due jobs while the
    schedules are being edited.
    """
    store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    store.start(_scheduler(engine), "default")
    try:
        yield store
    finally:
        store.shutdown()


def _job(store: SQLAlchemyJobStore, login_id: int, trigger: CronTrigger, cron: str) -> Job:
    return Job(
        store._scheduler,  # a Job needs the scheduler it would run under
        id=job_id(login_id),
        func=crawl_login_now,
        args=[login_id],
        kwargs={},
        name=cron,
        trigger=trigger,
        executor="default",
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
        next_run_time=trigger.get_next_fire_time(None, utcnow()),
    )


#: Weekdays as a crontab counts them (0 and 7 are Sunday), by the names APScheduler reads.
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_day(text: str) -> int:
    """A crontab weekday, 0 to 7 (both Sunday) or a name, as 0 (Sunday) to 7."""
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _CRONTAB_DAYS:
        return _CRONTAB_DAYS.index(text)
    raise ValueError(f"{text!r} is not a weekday (0-7 or sun-sat)")


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler's day names: ``1-5`` is ``mon,tue,wed,thu,fri``.

    APScheduler counts weekdays from Monday (0 is Monday), a crontab from Sunday, so its
    own ``from_crontab`` would run ``1-5`` Tuesday to Saturday. Naming the days says
    the same thing to both.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        body, _, step = part.partition("/")
        if body == "*":
            low, high = 0, 6
        elif "-" in body:
            first, _, last = body.partition("-")
            low, high = _crontab_day(first), _crontab_day(last)
        else:
            low = _crontab_day(body)
            high = 6 if step else low
        if high < low or (step and not (step.isdigit() and int(step) > 0)):
            raise ValueError(f"{part!r} is not a weekday range")
        days.update(day % 7 for day in range(low, high + 1, int(step or 1)))
    return ",".join(_CRONTAB_DAYS[day] for day in sorted(days))


def crontab_trigger(cron: str, timezone: str) -> CronTrigger:
    """The trigger a five-field crontab line means, in ``timezone``; ``ValueError`` if none."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, this one {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=timezone,
    )


def set_schedule(
    runtime: Runtime, login_id: int, cron: str, *, timezone: str = "UTC", actor: str = "cli"
) -> Schedule:
    """Crawl ``login_id`` on the five-field ``cron`` expression, replacing its schedule."""
    try:
        trigger = crontab_trigger(cron, timezone)
    except (ValueError, KeyError) as exc:
        raise ScheduleError(
            f"{cron!r} is not a cron expression (minute hour day month "
            f"weekday), or {timezone!r} is not a time zone: {exc}"
        ) from None
    with session_scope(runtime.engine) as session:
        if session.get(PortalLogin, login_id) is None:
            raise ScheduleError(f"no login with id {login_id}")
        session.add(
            AuditEvent(
                actor=actor,
                action="schedule.set",
                detail={"login_id": login_id, "cron": cron, "timezone": timezone},
            )
        )
    with _store(runtime.engine) as store:
        job = _job(store, login_id, trigger, cron)
        if store.lookup_job(job.id) is None:
            store.add_job(job)
        else:
            store.update_job(job)
        return Schedule(login_id, cron, timezone, job.next_run_time)


def remove_schedule(runtime: Runtime, login_id: int, *, actor: str = "cli") -> None:
    with _store(runtime.engine) as store:
        try:
            store.remove_job(job_id(login_id))
        except JobLookupError:
            raise ScheduleError(f"login {login_id} has no schedule") from None
    with session_scope(runtime.engine) as session:
        session.add(
            AuditEvent(actor=actor, action="schedule.remove", detail={"login_id": login_id})
        )


def list_schedules(runtime: Runtime) -> list[Schedule]:
    with _store(runtime.engine) as store:
        return sorted(
            (
                Schedule(int(job.args[0]), job.name, str(job.trigger.timezone), job.next_run_time)
                for job in store.get_all_jobs()
            ),
            key=lambda s: s.login_id,
        )


@contextmanager
def _scheduler_running(engine: Engine) -> Iterator[BackgroundScheduler]:
    """The schedules run in a background thread: the leader's duty.

    It re-reads the store every ``WAKE_EVERY_S`` seconds, so a schedule set from the
    command line or another server while it runs takes effect without a restart. A
    new scheduler each time this server leads: one that was shut down keeps nothing.
    """
    scheduler = _scheduler(engine)
    scheduler.start()
    scheduler.add_job(
        scheduler.wakeup,
        "interval",
        seconds=WAKE_EVERY_S,
        id="wake",
        jobstore="memory",
        executor=HOUSEKEEPING,
        replace_existing=True,
    )
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


@contextmanager
def running_scheduler(runtime: Runtime) -> Iterator[Leadership]:
    """Run the schedules whenever this server leads, for as long as the block lasts.

    Every ``accessrecon serve`` enters this; one of them leads at a time and runs the
    schedules, the others stand by to take over (``agent.crawl.leader``).
    """
    global _runtime
    _runtime = runtime
    try:
        with leading(
            runtime.engine, "schedules", lambda: _scheduler_running(runtime.engine)
        ) as leadership:
            yield leadership
    finally:
        _runtime = None
