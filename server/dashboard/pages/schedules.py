"""The Schedules page: crawl schedules per portal login, picked the way people say them.

A schedule is picked as "weekdays at 07:00", in the practice's time zone
(``ACCESSRECON_TIMEZONE``); the page shows the cron expression that makes, and the cron
is what is stored, so a schedule reads the same here, on the command line and in the
database. An expert may write the cron expression by hand instead. Schedules go
through ``agent.crawl.scheduling`` (which audits ``schedule.set`` and
``schedule.remove``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from agent.crawl.scheduling import (
    Schedule,
    ScheduleError,
    list_schedules,
    remove_schedule,
    set_schedule,
)
from agent.reports.words import day
from agent.runtime import Runtime
from agent.security.logins import list_logins
from agent.storage.models import PortalLogin
from server.actions import request_scan
from server.dashboard.web import (
    DONE_SHOWN,
    PREFIX,
    AdminDep,
    DashboardError,
    FormAdminDep,
    Viewer,
    redirect,
    render,
)
from server.deps import RuntimeDep, SessionDep
from server.schemas import MAX_ID

router = APIRouter()

# -- the schedule picker ----------------------------------------------------------------

#: How often a picked schedule runs, and the cron weekday field each makes.
PICKS: dict[str, tuple[str, str]] = {
    "daily": ("Every day", "*"),
    "weekdays": ("Weekdays (Mon–Fri)", "1-5"),
}
#: The expert's choice: a cron expression written by hand.
BY_HAND = "cron"
DEFAULT_AT = "07:00"
_PICKED = re.compile(r"(\d{1,2}) (\d{1,2}) \* \* (\*|1-5)")
_AT = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def picked_cron(how: str, at: str) -> str:
    """The cron a pick makes: ``weekdays`` at ``07:00`` is ``0 7 * * 1-5``.

    Raises ``ScheduleError`` for a pick it does not know or a time that is not HH:MM.
    """
    if how not in PICKS:
        raise ScheduleError("choose how often: every day, weekdays, or a cron expression")
    matched = _AT.fullmatch(at.strip())
    if matched is None:
        raise ScheduleError(f"{at[:20]!r} is not a time of day: write it as HH:MM, e.g. 07:00")
    hour, minute = int(matched[1]), int(matched[2])
    return f"{minute} {hour} * * {PICKS[how][1]}"


def read_pick(cron: str) -> tuple[str, str]:
    """The pick a stored cron is (``("weekdays", "07:00")``), or ``("cron", "")`` if none."""
    matched = _PICKED.fullmatch(cron.strip())
    if matched is None:
        return BY_HAND, ""
    minute, hour, weekdays = int(matched[1]), int(matched[2]), matched[3]
    if minute > 59 or hour > 23:
        return BY_HAND, ""
    how = next(k for k, (_, field) in PICKS.items() if field == weekdays)
    return how, f"{hour:02d}:{minute:02d}"


def _when_words(how: str, at: str, zone: str) -> str:
    return f"{PICKS[how][0].split(' (')[0].lower()} at {at}, {zone} time"


def schedule_in_words(cron: str, zone: str) -> str:
    """ "Weekdays at 07:00, Pacific/Auckland time", or the cron itself when it is no pick."""
    how, at = read_pick(cron)
    if how == BY_HAND:
        return f"Cron {cron}, {zone} time"
    words = _when_words(how, at, zone)
    return words[:1].upper() + words[1:]


def next_run_in_words(schedule: Schedule) -> str:
    """When it runs next, in its own zone: "Mon 8 Mar 2027 07:00 Pacific/Auckland time"."""
    when = schedule.next_run_at
    if when is None:
        return "not planned"
    return f"{when:%a} {day(when)} {when:%H:%M} {schedule.timezone} time"


@dataclass(frozen=True, slots=True)
class Picker:
    """One login's picker as the page shows it: the choice, its time, the cron, the zone."""

    how: str
    at: str
    cron: str
    zone: str

    @property
    def preview(self) -> str:
        """What the choice makes, said once in cron and once in words."""
        if self.how not in PICKS:
            return f"The cron expression as written, {self.zone} time."
        try:
            made = picked_cron(self.how, self.at)
        except ScheduleError:
            return "Write the time of day as HH:MM, e.g. 07:00."
        return f"Makes {made}: {_when_words(self.how, self.at, self.zone)}."


def _picker(schedule: Schedule | None, form: dict[str, str], zone: str) -> Picker:
    if form:
        return Picker(form["how"] or BY_HAND, form["at"], form["cron"], form["timezone"] or zone)
    if schedule is None:
        return Picker("weekdays", DEFAULT_AT, picked_cron("weekdays", DEFAULT_AT), zone)
    how, at = read_pick(schedule.cron)
    return Picker(how, at or DEFAULT_AT, schedule.cron, schedule.timezone)


def _schedules_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    viewer: Viewer,
    *,
    status: int = 200,
    error: str = "",
    done: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    schedules = {s.login_id: s for s in list_schedules(runtime)}
    logins = list_logins(session)
    sent = form or {}
    zone = runtime.settings.timezone
    return render(
        request,
        "schedules.html",
        viewer,
        status_code=status,
        logins=logins,
        schedules=schedules,
        words={s.login_id: schedule_in_words(s.cron, s.timezone) for s in schedules.values()},
        next_runs={s.login_id: next_run_in_words(s) for s in schedules.values()},
        pickers={
            login.id: _picker(
                schedules.get(login.id), sent if sent.get("login_id") == str(login.id) else {}, zone
            )
            for login in logins
        },
        choices=[(k, text) for k, (text, _) in PICKS.items()] + [(BY_HAND, "Cron (advanced)")],
        practice_zone=zone,
        error=error,
        done=done,
    )


@router.get("/schedules")
def schedules_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, viewer: AdminDep, done: str = ""
) -> Response:
    return _schedules_page(request, session, runtime, viewer, done=done[:DONE_SHOWN])


def _login(session: Session, login_id: int) -> PortalLogin:
    login = session.get(PortalLogin, login_id) if 1 <= login_id <= MAX_ID else None
    if login is None:
        raise DashboardError(404, "There is no portal login with that id.")
    return login


@router.post("/schedules/{login_id}")
def save_schedule(
    request: Request,
    login_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    viewer: FormAdminDep,
    how: Annotated[str, Form(max_length=16)] = "",
    at: Annotated[str, Form(max_length=20)] = "",
    cron: Annotated[str, Form(max_length=100)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Save the picked schedule (or the cron written by hand) in the practice's time zone."""
    _login(session, login_id)
    zone = timezone.strip() or runtime.settings.timezone
    try:
        if "\x00" in cron or "\x00" in timezone:
            raise ScheduleError("text may not contain NUL characters")
        chosen = cron.strip() if (how or BY_HAND) == BY_HAND else picked_cron(how, at)
        if not chosen:
            raise ScheduleError("write a cron expression, or pick every day or weekdays")
        set_schedule(runtime, login_id, chosen, timezone=zone, actor=viewer.principal.actor)
    except ScheduleError as exc:
        message = str(exc)
        return _schedules_page(
            request,
            session,
            runtime,
            viewer,
            status=422,
            error=message[:1].upper() + message[1:],
            form={
                "login_id": str(login_id),
                "how": how,
                "at": at,
                "cron": cron,
                "timezone": timezone,
            },
        )
    return redirect(f"{PREFIX}/schedules?done=schedule+saved")


@router.post("/schedules/{login_id}/remove")
def delete_schedule(
    request: Request, login_id: int, session: SessionDep, runtime: RuntimeDep, viewer: FormAdminDep
) -> Response:
    _login(session, login_id)
    try:
        remove_schedule(runtime, login_id, actor=viewer.principal.actor)
    except ScheduleError as exc:
        return _schedules_page(request, session, runtime, viewer, status=404, error=str(exc))
    return redirect(f"{PREFIX}/schedules?done=schedule+removed")


@router.post("/schedules/{login_id}/crawl")
def crawl_now(login_id: int, session: SessionDep, viewer: FormAdminDep) -> Response:
    """Queue a crawl of the whole login now, besides its schedule."""
    _login(session, login_id)
    request_scan(session, principal=viewer.principal, login_id=login_id, source="dashboard")
    session.commit()
    return redirect(f"{PREFIX}/scans")


# -- users and their tokens -------------------------------------------------------------

#: How each client scope reads on the page.
