"""The audit log, for practice admins: read it page by page, or export it as CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from agent.security.audit import list_events
from server.deps import AdminUser, ScopeDep, SessionDep
from server.exports import download, export_audit_csv
from server.schemas import Name

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, object]


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    total: int


class AuditExportIn(BaseModel):
    action: Name | None = Field(
        default=None, description="only this action, or an area such as 'export'"
    )


@router.get("/audit")
def get_audit(
    session: SessionDep,
    _admin: AdminUser,
    action: Annotated[Name | None, Query()] = None,
    actor: Annotated[Name | None, Query()] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPageOut:
    """Audit events, newest first."""
    page = list_events(session, action=action, actor=actor, since=since, limit=limit, offset=offset)
    return AuditPageOut(
        items=[AuditEventOut.model_validate(e, from_attributes=True) for e in page.events],
        total=page.total,
    )


@router.post(
    "/audit/export", responses={200: {"content": {"text/csv": {}}, "description": "the CSV file"}}
)
def post_audit_export(
    body: AuditExportIn, session: SessionDep, scope: ScopeDep, admin: AdminUser
) -> Response:
    """The audit log as CSV; the export is itself recorded."""
    return download(export_audit_csv(session, admin, scope, action=body.action))
