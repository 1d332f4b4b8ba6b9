"""Downloads of client data, cut to the caller's scope and recorded in the audit log.

Every export writes one audit event naming who exported, under which scope, how many
rows, and the SHA-256 of the exact bytes handed out, in the same transaction as
nothing else: the event is committed before the file is returned, so a file that
left the building always has its record.

CSV cells that a spreadsheet would evaluate are neutralised (``agent.reports.csvsafe``);
workbook cells are always written as text (``agent.reports.workbook``).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.reports.csvsafe import safe_csv_value
from agent.reports.leaver import COLUMNS, LeaverRow, find_staff, leaver_rows
from agent.reports.workbook import Column, as_of_line, safe_sheet_title, write_cell, write_table
from agent.security.audit import list_events, record, sha256_hex
from agent.security.auth import Principal, Scope
from agent.storage.models import ClientOrgLink, Staff
from server.queries import list_findings
from server.schemas import FindingFilter

CSV_FIELDS = (
    "portal",
    "portal_org_id",
    "org_name",
    "client",
    "client_manager",
    "email",
    "name",
    "finding_class",
    "severity",
    "role",
    "intended_role",
    "extra_permissions",
    "access_status",
    "removable_by",
    "review_state",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "detail",
    "id",
)


@dataclass(frozen=True, slots=True)
class Export:
    content: bytes
    filename: str
    media_type: str
    rows: int
    sha256: str


def _csv_bytes(header: tuple[str, ...], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([safe_csv_value(v) for v in row] for row in rows)
    # A BOM so Excel opens the UTF-8 (Māori macrons, accents) as UTF-8.
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _finish(
    session: Session,
    principal: Principal,
    scope: Scope,
    *,
    action: str,
    content: bytes,
    filename: str,
    media_type: str,
    rows: int,
    detail: dict[str, object],
) -> Export:
    digest = sha256_hex(content)
    record(
        session,
        actor=principal.actor,
        action=action,
        detail={**scope.describe(), "rows": rows, "sha256": digest, "filename": filename, **detail},
    )
    session.commit()
    return Export(content, filename, media_type, rows, digest)


def export_findings_csv(
    session: Session, principal: Principal, scope: Scope, flt: FindingFilter
) -> Export:
    items, _ = list_findings(session, scope, flt, limit=None)
    rows = []
    for item in items:
        data = item.model_dump(mode="json")
        data["extra_permissions"] = ", ".join(item.extra_permissions)
        rows.append(["" if data[f] is None else data[f] for f in CSV_FIELDS])
    content = _csv_bytes(CSV_FIELDS, rows)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return _finish(
        session,
        principal,
        scope,
        action="export.findings_csv",
        content=content,
        filename=f"accessrecon-findings-{stamp}.csv",
        media_type="text/csv",
        rows=len(rows),
        detail={"filter": flt.model_dump(mode="json", exclude_defaults=True)},
    )


def scoped_leaver_rows(session: Session, scope: Scope, staff: Staff) -> list[LeaverRow]:
    """The leaver report's rows for orgs inside the scope only."""
    rows = leaver_rows(session, staff)
    if scope.client_ids is None:
        return rows
    links = {
        (link.portal, link.portal_org_id): link.client_id
        for link in session.exec(
            select(ClientOrgLink).where(col(ClientOrgLink.client_id).in_(sorted(scope.client_ids)))
        )
    }
    return [r for r in rows if (r.portal, r.org_id) in links]


def _leaver_workbook(staff: Staff, rows: list[LeaverRow], scope_label: str, path: Path) -> None:
    """The leaver report's layout (agent.reports.leaver), for rows already cut to a scope."""
    as_of = utcnow()
    by_manager: dict[str, list[LeaverRow]] = defaultdict(list)
    for row in rows:
        by_manager[row.client_manager].append(row)
    book = Workbook()
    summary = book.active
    assert summary is not None
    taken: set[str] = set()
    summary.title = safe_sheet_title("Summary", taken)
    status = staff.status.replace("_", " ")
    left = f", left on {staff.left_on:%Y-%m-%d}" if staff.left_on else ""
    write_table(
        summary,
        title=f"Leaver report: {staff.name} ({status}{left})",
        subtitle=as_of_line(as_of, f"{scope_label} · {len(rows)} orgs the person can reach"),
        columns=(
            Column("Client manager", 28),
            Column("Orgs", 8),
            Column("Only the client can remove", 26),
            Column("Sheet", 28),
        ),
        rows=[
            (manager, len(items), sum(1 for r in items if r.removable_by == "client"), "")
            for manager, items in sorted(by_manager.items())
        ],
    )
    for i, (manager, items) in enumerate(sorted(by_manager.items()), start=5):
        sheet = book.create_sheet(safe_sheet_title(manager, taken))
        write_cell(summary, i, 4, sheet.title)
        write_table(
            sheet,
            title=f"{staff.name}: access on {manager}'s clients",
            subtitle=as_of_line(as_of, f"clients managed by {manager}"),
            columns=COLUMNS,
            rows=(r.cells() for r in items),
        )
    book.save(path)


def export_leaver_xlsx(session: Session, principal: Principal, scope: Scope, person: str) -> Export:
    """The leaver report for ``person`` (a name or email), showing only orgs in scope.

    Raises ``agent.reports.leaver.PersonNotFound``.
    """
    staff = find_staff(session, person)
    rows = scoped_leaver_rows(session, scope, staff)
    label = "all clients" if scope.everything else f"{scope.kind.value} clients"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "leaver.xlsx"
        _leaver_workbook(staff, rows, label, path)
        content = path.read_bytes()
    safe_name = "".join(c if c.isalnum() else "-" for c in staff.name).strip("-") or "person"
    return _finish(
        session,
        principal,
        scope,
        action="export.leaver_xlsx",
        content=content,
        filename=f"leaver-{safe_name}-{utcnow():%Y%m%d}.xlsx",
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        rows=len(rows),
        detail={"staff_id": staff.id},
    )


AUDIT_FIELDS = ("id", "at", "actor", "action", "detail")


def export_audit_csv(
    session: Session, principal: Principal, scope: Scope, *, action: str | None
) -> Export:
    page = list_events(session, action=action, limit=None)
    rows: list[list[object]] = [
        [
            e.id,
            e.at.isoformat(),
            e.actor,
            e.action,
            json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        ]
        for e in page.events
    ]
    content = _csv_bytes(AUDIT_FIELDS, rows)
    return _finish(
        session,
        principal,
        scope,
        action="export.audit_csv",
        content=content,
        filename=f"accessrecon-audit-{utcnow():%Y%m%d-%H%M}.csv",
        media_type="text/csv",
        rows=len(rows),
        detail={"action": action},
    )
