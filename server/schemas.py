"""API shapes shared by several routes; table models never double as these.

Every string a client sends is bounded by the column it lands in and may not hold
NUL (PostgreSQL refuses it): a value the database would reject is a 422 here, not a
500 there. Ids are bounded to the database's 32-bit integers for the same reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from agent.domain import AccessStatus, FindingClass, Portal, ReviewState, Severity

MAX_ID = 2**31 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
LongText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
OrgId = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]
Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=320, strip_whitespace=True),
    AfterValidator(_no_nul),
]
OrgName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500, strip_whitespace=True),
    AfterValidator(_no_nul),
]
PersonName = Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_nul)]
Role = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]


class Problem(BaseModel):
    detail: str


class FindingOut(BaseModel):
    id: int
    portal: Portal
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    staff_id: int | None
    email: str
    name: str
    finding_class: FindingClass
    severity: Severity
    role: str
    intended_role: str | None
    extra_permissions: list[str]
    access_status: AccessStatus
    removable_by: str
    review_state: ReviewState
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    detail: str
    capture_missing_at: datetime | None = Field(
        default=None,
        description="when a passive capture last did not show this open finding; "
        "only an agent scan may resolve it, and one is queued",
    )
    capture_note: str | None = Field(
        default=None, description='"not seen in a capture on DATE, awaiting a scan", or null'
    )


class FindingPage(BaseModel):
    items: list[FindingOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class FindingFilter(BaseModel):
    """What the findings list, the person view and the CSV export filter by."""

    finding_class: list[FindingClass] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    review_state: list[ReviewState] = Field(default_factory=list)
    access_status: list[AccessStatus] = Field(default_factory=list)
    portal: Portal | None = None
    staff_id: IdField | None = None
    person: Name | None = Field(
        default=None, description="an email (exact) or part of a person's name"
    )
    client_manager: Name | None = Field(
        default=None, description="the client manager's name; case does not matter"
    )
    text: Name | None = Field(
        default=None, description="part of an email, a name, an org or a client"
    )
    problems_only: bool = False
    include_resolved: bool = False
