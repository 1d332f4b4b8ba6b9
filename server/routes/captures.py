"""Passive capture: a user list the extension read off an org's Users page.

No stored credentials are involved: the person is already looking at the page. The
capture is held to the crawler's rule (DESIGN.md, "No false empties"): the rows must
match the count the page itself showed, and an empty list is accepted only when the
page said 0. Anything else is recorded as a failed scan (so the attempt is on file)
and answered 422. An ok capture is recorded as a scan with source ``extension`` and
that org alone is settled like a crawl: reconciled, then any new critical or high
finding alerted (``agent.services.captures``).

A capture is only what one browser says a page showed, and anyone holding a token
can post one, so it may raise findings and refresh what it saw but never resolve or
lower a finding (DESIGN.md, "Acting on findings"): an open finding the capture did
not show stays open, marked "not seen in a capture on DATE, awaiting a scan", and an
agent scan of the org is queued. Because it still changes the practice's findings
and queues scans, it is held to the caller's role and scope like a review decision:
employees are refused (403), and so is an org linked to a client outside the scope,
or to no client unless the scope is all clients. The org id must be one of its
portal's (Xero ``!`` and five letters or digits, QuickBooks 10 to 19 digits, MYOB a
UUID; ``agent.orgid``), and the org name a capture gives never
renames an org already known.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Self

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from agent.capture import OrgRef, PortalUser
from agent.domain import AccessStatus, Portal
from agent.orgid import parse_org_id
from agent.security.principal import Principal
from agent.security.scope import client_in_scope
from agent.services.captures import record_capture
from agent.services.status import org_status
from agent.storage.links import client_of
from server.actions import request_scan
from server.deps import CurrentUser, RuntimeDep, SessionDep
from server.schemas import (
    Email,
    OrgId,
    OrgName,
    OrgStatusOut,
    PersonName,
    Problem,
    Role,
    status_out,
)

router = APIRouter(tags=["captures"])


class CapturedUserIn(BaseModel):
    email: Email
    name: PersonName = ""
    role: Role = ""
    status: AccessStatus = AccessStatus.ACTIVE
    extra_permissions: list[Role] = Field(default_factory=list, max_length=50)

    def plain(self) -> PortalUser:
        return PortalUser(
            email=self.email,
            name=self.name,
            role=self.role,
            status=self.status,
            extra_permissions=tuple(self.extra_permissions),
        )


class CaptureIn(BaseModel):
    portal: Portal
    portal_org_id: OrgId
    org_name: OrgName = Field(description="the org's name as the page shows it")
    users: list[CapturedUserIn] = Field(max_length=20_000)
    shown_count: int = Field(
        ge=0, le=100_000, description="the number of users the page itself states"
    )

    @model_validator(mode="after")
    def _org_id_of_its_portal(self) -> Self:
        """The id in its stored form, or a 422 naming the portal's format."""
        self.portal_org_id = parse_org_id(self.portal, self.portal_org_id)
        return self


class CaptureOut(BaseModel):
    scan_id: int
    #: ``ok``, or ``suspect``: a drop to nobody against the last ok scan, held unapplied
    #: until a second capture or scan shows the same
    status: str
    user_count: int
    #: open findings this capture did not show: left open, awaiting the queued scan
    not_shown: int = 0
    #: the agent scan queued to settle them (or a suspect drop), if one was
    scan_request_id: int | None = None
    org: OrgStatusOut


class CaptureRefused(BaseModel):
    detail: str
    scan_id: int


def get_capturer(principal: CurrentUser) -> Principal:
    """The caller, if their role may post captures (checked before the body is read)."""
    if not principal.can_capture:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "only practice admins, partners and managers may record captures",
        )
    return principal


CaptureUser = Annotated[Principal, Depends(get_capturer)]


@router.post(
    "/captures",
    response_model=CaptureOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {
            "model": Problem,
            "description": "an employee, or the org is outside your client scope",
        },
        422: {
            "model": CaptureRefused,
            "description": "rows and the page's count disagree: a failed scan",
        },
    },
)
def post_capture(
    body: CaptureIn, session: SessionDep, runtime: RuntimeDep, principal: CaptureUser
) -> CaptureOut | JSONResponse:
    """Record a user list captured by the browser extension, then settle that org.

    The capture raises findings but resolves none: access it does not show stays
    open and an agent scan of the org is queued (``not_shown``, ``scan_request_id``).
    """
    users = [u.plain() for u in body.users]
    client = client_of(session, body.portal, body.portal_org_id)
    if not client_in_scope(session, principal, client):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this org is outside your client scope")

    def queue_scan() -> int:
        request = request_scan(
            session,
            principal=principal,
            portal=body.portal,
            portal_org_id=body.portal_org_id,
            source="capture",
        )
        assert request.id is not None
        return request.id

    result = record_capture(
        session,
        actor=principal.actor,
        settings=runtime.settings,
        org=OrgRef(body.portal, body.portal_org_id, body.org_name),
        users=users,
        shown_count=body.shown_count,
        queue_scan=queue_scan,
    )
    session.commit()
    if not result.ok:
        refused = CaptureRefused(
            detail=f"recorded as a failed scan: {result.problem}", scan_id=result.scan_id
        )
        return JSONResponse(refused.model_dump(), status.HTTP_422_UNPROCESSABLE_CONTENT)
    state = org_status(
        session,
        body.portal,
        body.portal_org_id,
        stale_after=timedelta(hours=runtime.settings.stale_after_hours),
    )
    assert state is not None
    return CaptureOut(
        scan_id=result.scan_id,
        status=result.status,
        user_count=result.user_count,
        not_shown=result.not_shown,
        scan_request_id=result.scan_request_id,
        org=status_out(state),
    )
