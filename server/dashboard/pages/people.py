"""People: the roster, and one person's page with every org they can reach in scope.

The person page is the API's ``/people/{id}/access`` on a page: the same
``FindingFilter`` and the same rule that intended-but-missing access is left out
unless asked for by class, so a leaver's page lists the orgs they can still get
into, filtered by access status, class, portal or client manager.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from server.dashboard.filters import PAGE_SIZE, enums, one, page_number, text
from server.dashboard.web import DashboardError, ViewerDep, render
from server.deps import SessionDep
from server.queries import get_staff, list_findings, managers_in_scope, search_staff
from server.schemas import MAX_ID, FindingFilter

router = APIRouter()

PERSON_LIMIT = 500


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
    flt = FindingFilter(
        staff_id=staff_id,
        access_status=enums(AccessStatus, access),
        finding_class=enums(FindingClass, finding_class),
        portal=one(Portal, portal),
        client_manager=text(manager),
    )
    exclude = () if flt.finding_class else (FindingClass.MISSING_EXPECTED,)
    items, total = list_findings(
        session, viewer.scope, flt, limit=PERSON_LIMIT, exclude_classes=exclude
    )
    params = {
        "access": [a.value for a in flt.access_status],
        "class": [c.value for c in flt.finding_class],
        "portal": flt.portal.value if flt.portal else "",
        "manager": flt.client_manager,
    }
    return render(
        request,
        "person.html",
        viewer,
        person=person,
        items=items,
        total=total,
        limit=PERSON_LIMIT,
        params=params,
        managers=managers_in_scope(session, viewer.scope),
        classes=list(FindingClass),
        access_statuses=list(AccessStatus),
        portals=list(Portal),
    )
