"""Downloads of client data, cut to the caller's scope and recorded in the audit log.

The files themselves are written by ``agent.reports`` (the findings CSV, the leaver
workbook, the audit log CSV), the same writers the command line uses. What is the
server's own is choosing the rows the caller may see and the audit event: it names
who exported, under which scope, how many rows, and the SHA-256 of the exact bytes
handed out, and it is committed before the file is returned, so a file that left
the building always has its record. ``download`` hands an export out as an
attachment, for every route that returns one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Response
from sqlmodel import Session

from agent.clock import utcnow
from agent.reports.audit_log import audit_download
from agent.reports.common import ReportScope
from agent.reports.download import Download
from agent.reports.findings import findings_download
from agent.reports.leaver import leaver_download
from agent.security.audit import list_events, record, sha256_hex
from agent.security.principal import Principal
from agent.security.scope import Scope
from server.queries import finding_rows
from server.schemas import FindingFilter


@dataclass(frozen=True, slots=True)
class Export:
    content: bytes
    filename: str
    media_type: str
    rows: int
    sha256: str


def download(export: Export) -> Response:
    """The export as an attachment, its digest and row count in the headers."""
    return Response(
        content=export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": content_disposition(export.filename),
            "X-Content-SHA256": export.sha256,
            "X-Row-Count": str(export.rows),
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` naming ``filename``: headers are Latin-1, names (a client's) are not.

    An ASCII name for old clients, and the exact name in RFC 6266's ``filename*``.
    """
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    exact = quote(filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"


def report_scope(scope: Scope) -> ReportScope:
    """The caller's scope as the reports cut and print it ("managed clients (3 clients)")."""
    return ReportScope.of(
        scope.client_ids, None if scope.everything else f"{scope.kind.value} clients"
    )


def recorded_export(
    session: Session,
    principal: Principal,
    scope: Scope,
    *,
    action: str,
    report: Download,
    detail: dict[str, object],
) -> Export:
    """``report`` as the caller receives it, recorded in the audit log first (who, their
    scope, the rows, the SHA-256 of exactly these bytes) and committed: the API and the
    dashboard record every download this one way."""
    digest = sha256_hex(report.content)
    record(
        session,
        actor=principal.actor,
        action=action,
        detail={
            **scope.describe(),
            "rows": report.rows,
            "sha256": digest,
            "filename": report.filename,
            **detail,
        },
    )
    session.commit()
    return Export(report.content, report.filename, report.media_type, report.rows, digest)


def export_findings_csv(
    session: Session, principal: Principal, scope: Scope, flt: FindingFilter
) -> Export:
    lines = finding_rows(session, scope, flt)
    return recorded_export(
        session,
        principal,
        scope,
        action="export.findings_csv",
        report=findings_download(lines, as_of=utcnow()),
        detail={"filter": flt.model_dump(mode="json", exclude_defaults=True)},
    )


def export_leaver_xlsx(session: Session, principal: Principal, scope: Scope, person: str) -> Export:
    """The leaver report for ``person`` (a name or email), showing only orgs in scope.

    Raises ``agent.reports.leaver.PersonNotFound``.
    """
    staff, report = leaver_download(session, person, scope=report_scope(scope), as_of=utcnow())
    return recorded_export(
        session,
        principal,
        scope,
        action="export.leaver_xlsx",
        report=report,
        detail={"staff_id": staff.id},
    )


def export_audit_csv(
    session: Session, principal: Principal, scope: Scope, *, action: str | None
) -> Export:
    page = list_events(session, action=action, limit=None)
    return recorded_export(
        session,
        principal,
        scope,
        action="export.audit_csv",
        report=audit_download(page.events, as_of=utcnow()),
        detail={"action": action},
    )
