"""Org status: what the extension shows for the org open in a tab."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from agent.domain import Portal
from agent.status import org_status
from server.deps import RuntimeDep, SessionDep

router = APIRouter(tags=["orgs"])


class PersonOut(BaseModel):
    email: str
    name: str
    finding_class: str
    severity: str
    review_state: str
    access_status: str
    role: str
    removable_by: str
    detail: str


class OrgStatusOut(BaseModel):
    portal: Portal
    portal_org_id: str
    name: str
    client: str | None
    client_manager: str | None
    client_archived: bool
    last_ok_scan_at: datetime | None
    last_scan_at: datetime | None
    last_scan_status: str | None
    last_scan_reason: str | None
    stale: bool
    worst_severity: str | None
    open_problems: int
    counts_by_class: dict[str, int]
    counts_by_severity: dict[str, int]
    people: list[PersonOut]


@router.get(
    "/orgs/{portal}/{portal_org_id}/status",
    responses={404: {"description": "the agent has never listed this org"}},
)
def get_org_status(
    portal: Portal, portal_org_id: str, session: SessionDep, runtime: RuntimeDep
) -> OrgStatusOut:
    status = org_status(
        session, portal, portal_org_id,
        stale_after=timedelta(hours=runtime.settings.stale_after_hours),
    )
    if status is None:
        raise HTTPException(status_code=404, detail="org not known: it has never been listed")
    return OrgStatusOut.model_validate(status, from_attributes=True)
