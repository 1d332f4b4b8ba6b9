"""Crawl schedules per portal login, for practice admins (``agent.crawl.scheduling``).

A schedule only queues crawls on the scan queue; the worker runs them. Setting and
removing one is written to the audit log by ``agent.crawl.scheduling``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from agent.crawl.scheduling import (
    Schedule,
    ScheduleError,
    list_schedules,
    remove_schedule,
    set_schedule,
)
from server.deps import AdminUser, RuntimeDep
from server.schemas import IdPath, Problem, _no_nul

router = APIRouter(tags=["schedules"])

Cron = Annotated[str, StringConstraints(min_length=9, max_length=100)]
TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")
]


class ScheduleIn(BaseModel):
    cron: Cron = Field(description="five fields: minute hour day month weekday, e.g. '0 6 * * 1-5'")
    timezone: TimeZone = "UTC"


class ScheduleOut(BaseModel):
    login_id: int
    cron: str
    timezone: str
    next_run_at: datetime | None


def _out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        login_id=schedule.login_id,
        cron=schedule.cron,
        timezone=schedule.timezone,
        next_run_at=schedule.next_run_at,
    )


@router.get("/schedules")
async def get_schedules(runtime: RuntimeDep, _admin: AdminUser) -> list[ScheduleOut]:
    return [_out(s) for s in await run_in_threadpool(list_schedules, runtime)]


@router.put("/schedules/{login_id}", responses={422: {"model": Problem}})
async def put_schedule(
    login_id: IdPath, body: ScheduleIn, runtime: RuntimeDep, admin: AdminUser
) -> ScheduleOut:
    """Crawl the login on this schedule, replacing any it had."""
    try:
        _no_nul(body.cron)
        schedule = await run_in_threadpool(
            set_schedule, runtime, login_id, body.cron, timezone=body.timezone, actor=admin.actor
        )
    except (ScheduleError, ValueError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return _out(schedule)


@router.delete(
    "/schedules/{login_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": Problem}},
)
async def delete_schedule(login_id: IdPath, runtime: RuntimeDep, admin: AdminUser) -> None:
    try:
        await run_in_threadpool(remove_schedule, runtime, login_id, actor=admin.actor)
    except ScheduleError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
