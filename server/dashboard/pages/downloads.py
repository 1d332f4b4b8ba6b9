"""Downloads where people look: each page's files, cut to the viewer and audited.

Findings (CSV or a workbook, with the list's own filters) on Findings; a person's
leaver workbook on their page; the access matrix on People; workload and exceptions
on the overview; the evidence of every scan on Scans. (A client's access statement,
on the org page and the statement page, is ``server.dashboard.pages.statements``.)
Each is a plain link, so a person can open it in a new tab or copy it, and answers
with the file as an attachment named by what it is and when it was cut.

The files are the ones the API and the command line hand out, written by
``agent.reports`` for the viewer's client scope, and each is recorded in the audit
log before a byte is sent: the findings CSV and the leaver workbook through
``server.exports`` itself (the API's own functions, so the row is the API's row),
the workbooks through its ``recorded_export`` with the command line's action names
(``export.report_matrix``...).

These are GET requests that write an audit row, which the API avoids (its exports
are POSTs). Here the session cookie is ``SameSite=Strict``: a link on another site
arrives without it and is sent to the sign-in page, so only the viewer's own click
exports anything, and the record says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlmodel import Session

from agent.clock import utcnow
from agent.reports.common import ReportFormat, ReportScope, default_filename
from agent.reports.download import XLSX_MEDIA_TYPE, Download, written
from agent.reports.evidence import evidence_rows, write_evidence_xlsx
from agent.reports.exceptions import exception_rows, write_exceptions_xlsx
from agent.reports.findings_workbook import findings_workbook_download
from agent.reports.leaver import PersonNotFound
from agent.reports.matrix import access_matrix, write_matrix_xlsx
from agent.reports.words import label
from agent.reports.workload import workload, write_workload_xlsx
from server.dashboard.pages.findings import FindingsQuery, findings_query
from server.dashboard.web import DashboardError, Viewer, ViewerDep
from server.deps import SessionDep
from server.exports import (
    Export,
    download,
    export_findings_csv,
    export_leaver_xlsx,
    recorded_export,
    report_scope,
)
from server.queries import finding_rows, get_staff
from server.schemas import MAX_ID, FindingFilter

router = APIRouter()

FindingsQueryDep = Annotated[FindingsQuery, Depends(findings_query)]


# -- findings ---------------------------------------------------------------------------


def filters_in_words(flt: FindingFilter) -> str:
    """The filter as a person says it ("Leaver access; Mia Manager's clients"), or ""."""
    parts: list[str] = []
    for chosen in (flt.finding_class, flt.severity, flt.review_state, flt.access_status):
        if chosen:
            parts.append(" or ".join(label(c) for c in chosen))
    if flt.portal:
        parts.append(label(flt.portal))
    if flt.client_manager:
        parts.append(f"clients of {flt.client_manager}")
    if flt.text:
        parts.append(f"matching “{flt.text}”")
    if flt.include_resolved:
        parts.append("resolved ones too")
    return "; ".join(parts)


@router.get("/findings.csv")
def findings_csv(session: SessionDep, viewer: ViewerDep, query: FindingsQueryDep) -> Response:
    """The findings the list shows (every page of it), as the API's CSV."""
    return download(export_findings_csv(session, viewer.principal, viewer.scope, query.flt))


@router.get("/findings.xlsx")
def findings_xlsx(session: SessionDep, viewer: ViewerDep, query: FindingsQueryDep) -> Response:
    """The same findings as a workbook, in words."""
    lines = finding_rows(session, viewer.scope, query.flt)
    report = findings_workbook_download(
        lines,
        scope=report_scope(viewer.scope),
        as_of=utcnow(),
        filters=filters_in_words(query.flt),
    )
    export = recorded_export(
        session,
        viewer.principal,
        viewer.scope,
        action="export.findings_xlsx",
        report=report,
        detail={"filter": query.flt.model_dump(mode="json", exclude_defaults=True)},
    )
    return download(export)


# -- a person ---------------------------------------------------------------------------


@router.get("/people/{staff_id}/leaver.xlsx")
def leaver_xlsx(staff_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    """Every org in the viewer's scope the person can still reach (the API's workbook)."""
    person = get_staff(session, staff_id) if 1 <= staff_id <= MAX_ID else None
    if person is None:
        raise DashboardError(404, "There is no staff member with that id.")
    who = person.emails[0] if person.emails else person.name
    try:
        export = export_leaver_xlsx(session, viewer.principal, viewer.scope, who)
    except PersonNotFound as exc:
        raise DashboardError(409, f"No leaver workbook for {person.name}: {exc}.") from None
    return download(export)


# -- the practice's workbooks -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workbook:
    """A report the dashboard hands out: its file name's stem and how it is written."""

    kind: str
    stem: str
    write: Callable[[Session, ReportScope, Path, datetime], int]


WORKBOOKS: dict[str, Workbook] = {
    w.stem: w
    for w in (
        Workbook(
            "matrix",
            "access-matrix",
            lambda s, scope, path, as_of: write_matrix_xlsx(
                access_matrix(s, scope=scope), path, scope=scope, as_of=as_of
            ),
        ),
        Workbook(
            "workload",
            "workload",
            lambda s, scope, path, as_of: write_workload_xlsx(
                workload(s, scope=scope), path, scope=scope, as_of=as_of
            ),
        ),
        Workbook(
            "exceptions",
            "exceptions",
            lambda s, scope, path, as_of: write_exceptions_xlsx(
                exception_rows(s, scope=scope), path, scope=scope, as_of=as_of
            ),
        ),
        Workbook(
            "evidence",
            "evidence",
            lambda s, scope, path, as_of: write_evidence_xlsx(
                evidence_rows(s, scope=scope), path, scope=scope, as_of=as_of
            ),
        ),
    )
}


def workbook_download(
    session: Session, viewer: Viewer, workbook: Workbook, *, now: datetime | None = None
) -> Export:
    """``workbook`` for the viewer's scope, as of ``now``, recorded like the command line's."""
    as_of = now or utcnow()
    scope = report_scope(viewer.scope)
    filename = default_filename(workbook.stem, as_of, ReportFormat.XLSX)
    content, rows = written(lambda path: workbook.write(session, scope, path, as_of), "report.xlsx")
    return recorded_export(
        session,
        viewer.principal,
        viewer.scope,
        action=f"export.report_{workbook.kind}",
        report=Download(content, filename, XLSX_MEDIA_TYPE, rows),
        detail={"format": ReportFormat.XLSX.value},
    )


@router.get("/reports/{name}.xlsx")
def report_xlsx(name: str, session: SessionDep, viewer: ViewerDep) -> Response:
    workbook = WORKBOOKS.get(name)
    if workbook is None:
        raise DashboardError(404, f"There is no report called {name[:40]!r}.")
    return download(workbook_download(session, viewer, workbook))
