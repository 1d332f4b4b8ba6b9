"""People: the roster with how many orgs each person can still reach, and one person's page.

What a person can reach is one answer wherever it is asked: the orgs on a person's
page, and the count beside their name on the roster, are ``leaver_rows`` from
``agent.reports.leaver``, the rows the leaver workbook writes. Open access only
(active or an invitation waiting), in the viewer's scope, with the private
addresses that may be theirs (probable matches, marked for checking); grants the
practice made that are not seen in the org are not access and are left out.

The page's filters (access status, class, portal, client manager) narrow those rows;
each row links to its finding, where it is reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from agent.reports.leaver import LeaverRow, leaver_rows
from agent.reports.leaver_access import left_words
from agent.security.scope import Scope, normalise_person_name
from agent.storage.models import Finding, Staff
from server.dashboard.filters import PAGE_SIZE, enums, one, page_number, text
from server.dashboard.web import DashboardError, ViewerDep, render
from server.deps import SessionDep
from server.queries import StaffRow, get_staff, managers_in_scope, search_staff
from server.schemas import MAX_ID

router = APIRouter()

PERSON_LIMIT = 500
#: what an open access can be: the page offers only these
ACCESS_STATUSES = (AccessStatus.ACTIVE, AccessStatus.PENDING)
#: the classes a reachable org can have (a grant not seen is no access)
REACH_CLASSES = tuple(c for c in FindingClass if c is not FindingClass.MISSING_EXPECTED)


@dataclass(frozen=True, slots=True)
class ReachRow:
    """One access on a person's page: the leaver workbook's row, its severity and review."""

    row: LeaverRow
    severity: str
    review_state: str


def reachable(session: Session, staff_id: int, scope: Scope) -> list[LeaverRow]:
    """Every open access of the person on orgs in ``scope``: the leaver workbook's rows."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        return []
    return leaver_rows(session, staff, scope=scope.client_ids)


def org_count(rows: Iterable[LeaverRow]) -> int:
    """How many orgs the rows reach (a person seen under two addresses in one org: one)."""
    return len({(r.portal, r.org_id) for r in rows})


def person_heading(person: StaffRow) -> str:
    """The person's page heading: "Hana Chen — left 6 Jan 2026", "Erin Rossi — on leave"."""
    if person.status == StaffStatus.LEFT:
        left_on = person.left_on if isinstance(person.left_on, date) else None
        return f"{person.name} — {left_words(person.status, left_on)}"
    if person.status == StaffStatus.ON_LEAVE:
        return f"{person.name} — on leave"
    return person.name


def _with_findings(session: Session, rows: Sequence[LeaverRow]) -> list[ReachRow]:
    """Each row with its finding's severity and review state (problems only are reviewed)."""
    ids = sorted({r.finding_id for r in rows if r.finding_id is not None})
    states: dict[int | None, str] = {}
    if ids:
        query = select(Finding.id, Finding.review_state).where(col(Finding.id).in_(ids))
        states.update((finding_id, state) for finding_id, state in session.exec(query))
    reach = []
    for row in rows:
        cls = FindingClass(row.finding_class)
        reach.append(
            ReachRow(
                row=row,
                severity=cls.severity.value,
                review_state=states.get(row.finding_id, "") if cls.is_problem else "",
            )
        )
    return reach


def _matches(
    row: LeaverRow,
    *,
    access: Sequence[AccessStatus],
    classes: Sequence[FindingClass],
    portal: Portal | None,
    manager: str | None,
) -> bool:
    return (
        (not access or row.status in access)
        and (not classes or row.finding_class in classes)
        and (portal is None or row.portal == portal)
        and (manager is None or normalise_person_name(row.client_manager) == manager)
    )


@router.get("/people")
def people_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    q: str = "",
    status: str = "",
    page: str = "1",
) -> Response:
    number = page_number(page)
    which = one(StaffStatus, status)
    rows, total = search_staff(
        session,
        text=text(q),
        status=which.value if which else None,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "people.html",
        viewer,
        rows=rows,
        reach={p.id: org_count(reachable(session, p.id, viewer.scope)) for p in rows},
        total=total,
        page=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        params={"q": text(q), "status": which.value if which else ""},
        statuses=list(StaffStatus),
    )


@router.get("/people/{staff_id}")
def person_page(
    request: Request,
    staff_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    access: Annotated[list[str], Query()] = [],  # noqa: B006
    finding_class: Annotated[list[str], Query(alias="class")] = [],  # noqa: B006
    portal: str = "",
    manager: str = "",
) -> Response:
    person = get_staff(session, staff_id) if 1 <= staff_id <= MAX_ID else None
    if person is None:
        raise DashboardError(404, "There is no staff member with that id.")
    statuses = enums(AccessStatus, access)
    classes = enums(FindingClass, finding_class)
    kind = one(Portal, portal)
    manager_name = text(manager)
    everything = reachable(session, staff_id, viewer.scope)
    rows = [
        r
        for r in everything
        if _matches(
            r,
            access=statuses,
            classes=classes,
            portal=kind,
            manager=normalise_person_name(manager_name) if manager_name else None,
        )
    ]
    params = {
        "access": [a.value for a in statuses],
        "class": [c.value for c in classes],
        "portal": kind.value if kind else "",
        "manager": manager_name,
    }
    return render(
        request,
        "person.html",
        viewer,
        person=person,
        heading=person_heading(person),
        items=_with_findings(session, rows[:PERSON_LIMIT]),
        total=org_count(rows),
        shown_rows=min(len(rows), PERSON_LIMIT),
        rows_total=len(rows),
        filtered=any(params.values()),
        params=params,
        managers=managers_in_scope(session, viewer.scope),
        classes=list(REACH_CLASSES),
        access_statuses=list(ACCESS_STATUSES),
        portals=list(Portal),
    )
