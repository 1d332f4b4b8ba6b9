"""Downloads: the findings CSV and the leaver workbook, cut to the caller's scope.

They are POST requests because each export is recorded in the audit log (who, scope,
rows, SHA-256 of the file): GET never changes anything, not even the log.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from agent.reports.leaver import PersonNotFound
from server.deps import CurrentUser, ScopeDep, SessionDep
from server.exports import download, export_findings_csv, export_leaver_xlsx
from server.schemas import FindingFilter, Name, Problem

router = APIRouter(tags=["exports"])


class LeaverReportIn(BaseModel):
    person: Name = Field(min_length=1, description="the person's name or any of their emails")


@router.post(
    "/exports/findings.csv",
    responses={200: {"content": {"text/csv": {}}, "description": "the CSV file"}},
)
def post_findings_csv(
    body: FindingFilter, session: SessionDep, scope: ScopeDep, principal: CurrentUser
) -> Response:
    """Findings in your scope as CSV (spreadsheet formulas neutralised)."""
    return download(export_findings_csv(session, principal, scope, body))


@router.post(
    "/exports/leaver.xlsx",
    responses={
        200: {
            "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
            "description": "the workbook",
        },
        404: {"model": Problem},
    },
)
def post_leaver_xlsx(
    body: LeaverReportIn, session: SessionDep, scope: ScopeDep, principal: CurrentUser
) -> Response:
    """Every org in your scope a person can still reach, one sheet per client manager."""
    try:
        export = export_leaver_xlsx(session, principal, scope, body.person)
    except PersonNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return download(export)
