"""People: the roster, and every org a person can reach within the caller's scope."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from agent.domain import AccessStatus, FindingClass, Portal, StaffStatus
from server.deps import CurrentUser, ScopeDep, SessionDep
from server.queries import get_staff, list_findings, search_staff
from server.schemas import FindingFilter, FindingOut, IdPath, Name, Problem

router = APIRouter(tags=["people"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class StaffOut(BaseModel):
    id: int
    name: str
    status: StaffStatus
    left_on: date | None
    practice_role: str
    emails: list[str]


class StaffPage(BaseModel):
    items: list[StaffOut]
    total: int


class PersonAccessOut(BaseModel):
    person: StaffOut
    orgs: list[FindingOut] = Field(description="one row per org the person can reach")
    total: int
    next_offset: int | None


@router.get("/people")
def get_people(
    session: SessionDep,
    _user: CurrentUser,
    q: Annotated[Name | None, Query(description="part of a name or email")] = None,
    staff_status: Annotated[StaffStatus | None, Query(alias="status")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StaffPage:
    """Search the practice's roster."""
    rows, total = search_staff(session, text=q, status=staff_status, limit=limit, offset=offset)
    return StaffPage(
        items=[StaffOut.model_validate(r, from_attributes=True) for r in rows], total=total
    )


@router.get("/people/{staff_id}/access", responses={404: {"model": Problem}})
def get_person_access(
    staff_id: IdPath,
    session: SessionDep,
    scope: ScopeDep,
    _user: CurrentUser,
    access_status: Annotated[list[AccessStatus], Query()] = [],  # noqa: B006
    finding_class: Annotated[list[FindingClass], Query()] = [],  # noqa: B006
    portal: Portal | None = None,
    client_manager: Annotated[Name | None, Query()] = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> PersonAccessOut:
    """Every org in your scope the person can reach (intended-but-missing access excluded
    unless asked for by class)."""
    person = get_staff(session, staff_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no staff member with that id")
    flt = FindingFilter(
        staff_id=staff_id,
        access_status=access_status,
        finding_class=finding_class,
        portal=portal,
        client_manager=client_manager,
    )
    exclude = () if finding_class else (FindingClass.MISSING_EXPECTED,)
    items, total = list_findings(
        session, scope, flt, limit=limit, offset=offset, exclude_classes=exclude
    )
    following = offset + len(items)
    return PersonAccessOut(
        person=StaffOut.model_validate(person, from_attributes=True),
        orgs=items,
        total=total,
        next_offset=following if following < total else None,
    )
