"""Scans: queue a re-scan, follow it, and read the crawl history.

The server never scans: a request goes on the queue (``agent.crawl.scan_queue``) and the
worker runs it. Re-scanning one org is open to anyone whose scope holds it; a whole
portal login reaches many clients, so only admins queue one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

from agent.crawl.scan_queue import get_request
from agent.domain import Portal
from agent.security.scope import client_in_scope
from agent.services.scans import find_org
from agent.storage.links import client_of
from agent.storage.models import PortalLogin, ScanRequest
from server.actions import request_scan
from server.deps import CurrentUser, ScopeDep, SessionDep
from server.queries import list_crawls, request_in_scope
from server.schemas import IdField, IdPath, OrgId, Problem

router = APIRouter(tags=["scans"])


class ScanRequestIn(BaseModel):
    """Either an org (portal and its org id) or a portal login, not both."""

    portal: Portal | None = None
    portal_org_id: OrgId | None = None
    login_id: IdField | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        org = self.portal is not None and self.portal_org_id is not None
        if org == (self.login_id is not None) or (
            (self.portal is None) != (self.portal_org_id is None)
        ):
            raise ValueError("name an org (portal and portal_org_id) or a login_id")
        return self


class ScanRequestOut(BaseModel):
    id: int
    status: str
    requested_at: datetime
    requested_by: str
    source: str
    login_id: int | None
    portal: str | None
    portal_org_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    done: int
    failed: int
    total: int | None
    detail: str


class CrawlOut(BaseModel):
    id: int
    trigger: str
    portal: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    scans_ok: int = Field(description="ok scans of orgs in your scope")
    scans_failed: int = Field(description="failed scans of orgs in your scope")


class CrawlPage(BaseModel):
    items: list[CrawlOut]
    total: int


def _out(request: ScanRequest) -> ScanRequestOut:
    return ScanRequestOut.model_validate(request, from_attributes=True)


@router.post(
    "/scan-requests",
    status_code=status.HTTP_202_ACCEPTED,
    responses={403: {"model": Problem}, 404: {"model": Problem}},
)
def post_scan_request(
    body: ScanRequestIn, session: SessionDep, principal: CurrentUser
) -> ScanRequestOut:
    """Queue a re-scan of an org or a login; asking again returns the queued request."""
    if body.login_id is not None:
        if not principal.is_admin:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "only a practice admin may re-scan a whole login"
            )
        if session.get(PortalLogin, body.login_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no login with that id")
        request = request_scan(session, principal=principal, login_id=body.login_id)
    else:
        assert body.portal is not None
        assert body.portal_org_id is not None
        client = client_of(session, body.portal, body.portal_org_id)
        if (
            not client_in_scope(session, principal, client)
            or find_org(session, body.portal, body.portal_org_id) is None
        ):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                "org not known: never listed, or outside your client scope",
            )
        request = request_scan(
            session, principal=principal, portal=body.portal, portal_org_id=body.portal_org_id
        )
    session.commit()
    session.refresh(request)
    return _out(request)


@router.get("/scan-requests/{request_id}", responses={404: {"model": Problem}})
def get_scan_request(
    request_id: IdPath, session: SessionDep, scope: ScopeDep, _user: CurrentUser
) -> ScanRequestOut:
    """A queued re-scan's progress: status, done, failed and total."""
    request = get_request(session, request_id)
    if request is None or not request_in_scope(session, scope, request):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such scan request in your scope")
    return _out(request)


@router.get("/crawls")
def get_crawls(
    session: SessionDep,
    scope: ScopeDep,
    _user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CrawlPage:
    """Crawl history, newest first."""
    rows, total = list_crawls(session, scope, limit=limit, offset=offset)
    return CrawlPage(
        items=[CrawlOut.model_validate(r, from_attributes=True) for r in rows], total=total
    )
