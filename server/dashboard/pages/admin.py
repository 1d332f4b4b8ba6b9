"""Practice admins' pages: crawl schedules per portal login, and the people who sign in.

A schedule is picked the way people say it, "weekdays at 07:00", in the practice's
time zone (``ACCESSRECON_TIMEZONE``); the page shows the cron expression that makes,
and the cron is what is stored, so a schedule reads the same here, on the command
line and in the database. An expert may write the cron expression by hand instead.
Schedules go through ``agent.crawl.scheduling`` (which audits ``schedule.set`` and
``schedule.remove``).

Users are added and tokens revoked through the services the command line uses
(``agent.security.users.add_user``, ``agent.security.tokens.revoke_token``), which
audit ``auth.user_added`` and ``auth.token_revoked``; a pairing code through
``agent.security.pairing.issue_pairing_code`` (audited as
``auth.pairing_code_issued``). The code is shown once, on the answer to the form
post, and is never stored in the clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from agent.crawl.scheduling import (
    Schedule,
    ScheduleError,
    list_schedules,
    remove_schedule,
    set_schedule,
)
from agent.imports import PracticeRole
from agent.reports.words import day
from agent.runtime import Runtime
from agent.security.logins import list_logins
from agent.security.pairing import CODE_TTL, format_code, issue_pairing_code
from agent.security.principal import AuthError, ClientScope
from agent.security.tokens import list_tokens, revoke_token
from agent.security.users import add_user, list_users
from agent.storage.models import Client, PortalLogin, Staff
from server.actions import request_scan
from server.dashboard.web import (
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

#: How much of the ``done`` notice (a query string anyone can write) the page shows: a
#: display bound, not a column width.
DONE_SHOWN = 200

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
SCOPES: dict[str, str] = {
    ClientScope.ALL: "All clients",
    ClientScope.MANAGED: "Clients they manage",
    ClientScope.SELECTED: "Selected clients",
}


def _users_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    status: int = 200,
    issued: dict[str, Any] | None = None,
    error: str = "",
    done: str = "",
    form: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        viewer,
        status_code=status,
        users=list_users(session),
        tokens=[t for t in list_tokens(session) if t.revoked_at is None],
        roles=list(PracticeRole),
        scopes=SCOPES,
        clients=list(session.exec(select(Client).order_by(col(Client.name)))),
        staff=list(session.exec(select(Staff).order_by(col(Staff.name)))),
        issued=issued,
        minutes=int(CODE_TTL.total_seconds() // 60),
        error=error,
        done=done,
        form=form or {},
    )


@router.get("/users")
def users_page(request: Request, session: SessionDep, viewer: AdminDep, done: str = "") -> Response:
    return _users_page(request, session, viewer, done=done[:DONE_SHOWN])


@router.post("/users")
def add_a_user(
    request: Request,
    session: SessionDep,
    viewer: FormAdminDep,
    name: Annotated[str, Form(max_length=500)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    scope: Annotated[str, Form(max_length=32)] = "",
    client_ids: Annotated[list[str], Form()] = [],  # noqa: B006
    staff_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """A new user, as ``accessrecon users add`` makes one; then show them a pairing code."""
    form = {
        "name": name,
        "role": role,
        "scope": scope,
        "client_ids": client_ids,
        "staff_id": staff_id,
    }
    try:
        if "\x00" in name:
            raise AuthError("a name may not contain NUL characters")
        if role not in set(PracticeRole):
            raise AuthError("choose the user's role")
        if scope not in SCOPES:
            raise AuthError("choose which clients the user may see")
        ids = [int(v) for v in client_ids[:10_000] if v.isascii() and v.strip().isdigit()]
        if len(ids) != len(client_ids):
            raise AuthError("the chosen clients are not all clients of the list")
        if staff_id and not (staff_id.isascii() and staff_id.strip().isdigit()):
            raise AuthError(f"{staff_id[:20]!r} is not a staff member of the roster")
        user = add_user(
            session,
            name=name,
            role=role,
            scope=scope,
            client_ids=ids,
            staff=int(staff_id) if staff_id else None,
            actor=viewer.principal.actor,
        )
    except AuthError as exc:
        session.rollback()
        message = str(exc)
        return _users_page(
            request,
            session,
            viewer,
            status=422,
            error=f"{message[:1].upper()}{message[1:]}; nobody was added.",
            form=form,
        )
    session.commit()
    done = f"{user.name} was added: show them a pairing code to sign in"
    return redirect(f"{PREFIX}/users?{urlencode({'done': done})}")


@router.post("/users/tokens/{token_id}/revoke")
def revoke_a_token(
    request: Request, token_id: int, session: SessionDep, viewer: FormAdminDep
) -> Response:
    """End a token at once: the extension or sign-in holding it is refused from now on."""
    try:
        if not 1 <= token_id <= MAX_ID:
            raise AuthError(f"no token with id {token_id}")
        token = revoke_token(session, token_id, actor=viewer.principal.actor)
    except AuthError:
        raise DashboardError(404, "There is no token with that id.") from None
    session.commit()
    if token.id == viewer.principal.token_id:
        return redirect(f"{PREFIX}/login")
    done = f"{token.user_name}'s token {token.id} ({token.label or 'no label'}) was revoked"
    return redirect(f"{PREFIX}/users?{urlencode({'done': done})}")


@router.post("/users/{user_id}/pairing-code")
def pairing_code(
    request: Request, user_id: int, session: SessionDep, viewer: FormAdminDep
) -> Response:
    try:
        if not 1 <= user_id <= MAX_ID:
            raise AuthError("no such user")
        issued = issue_pairing_code(
            session, user_id=user_id, actor=viewer.principal.actor, note="shown on the dashboard"
        )
    except AuthError:
        raise DashboardError(404, "There is no user with that id.") from None
    session.commit()
    return _users_page(
        request,
        session,
        viewer,
        issued={
            "code": format_code(issued.code),
            "user": issued.user_name,
            "expires_at": issued.expires_at,
        },
    )
