"""The findings as a workbook: the rows a person filtered, in words, for a spreadsheet.

The CSV (``agent.reports.findings``) keeps codes because programs re-read it; a
workbook is read by people, so every code here is written as the dashboard writes it
(``agent.reports.words``: "Leaver access", "QuickBooks Online", "Invite pending") and
times are real dates. Which findings go in is the caller's choice, made the way the
CSV's is: the dashboard's filters under the viewer's scope. The filters are printed
under the title, so a forwarded file still says what it is a list of.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from agent.reports.common import CellKind, Column, ReportScope
from agent.reports.download import XLSX_MEDIA_TYPE, Download, written
from agent.reports.labels import (
    SEVERITY_STYLES,
    class_style,
    permissions_text,
    reason_words,
    role_label,
    status_label,
    who_can_remove,
)
from agent.reports.table_sheet import NOTE, Style
from agent.reports.words import label, spelt_dates
from agent.reports.xlsx import XlsxReport
from agent.services.finding_lists import FindingRow

__all__ = ["COLUMNS", "findings_workbook_download", "write_findings_xlsx"]

COLUMNS = (
    Column("Severity", 10),
    Column("Class", 22),
    Column("Person", 24),
    Column("Email", 30),
    Column("Client", 26),
    Column("Client manager", 20),
    Column("Portal", 16),
    Column("Org", 26),
    Column("Org id", 14),
    Column("Role", 18),
    Column("Granted role", 18),
    Column("Extra permissions", 18),
    Column("Access", 14),
    Column("Who can remove it", 12),
    Column("Why the client", 24),
    Column("Review", 16),
    Column("First seen (UTC)", 17, CellKind.DATETIME),
    Column("Last seen (UTC)", 17, CellKind.DATETIME),
    Column("Resolved (UTC)", 17, CellKind.DATETIME),
    Column("Detail", 50),
    Column("Finding id", 9, CellKind.INT),
)


def _cells(row: FindingRow) -> tuple[object, ...]:
    remover = who_can_remove(row.finding_class, row.removable_by, row.removable_reason)
    return (
        label(row.severity),
        label(row.finding_class),
        row.name,
        row.email,
        row.client or "",
        row.client_manager or "",
        label(row.portal),
        row.org_name,
        row.portal_org_id,
        role_label(row.portal, row.role) if row.role else "",
        role_label(row.portal, row.intended_role) if row.intended_role else "",
        permissions_text(row.portal, row.role, row.extra_permissions),
        status_label(row.finding_class, row.access_status),
        label(remover.by),
        reason_words(remover.reason),
        label(row.review_state),
        row.first_seen_at,
        row.last_seen_at,
        row.resolved_at,
        spelt_dates(row.detail),
        row.id,
    )


def write_findings_xlsx(
    lines: Sequence[FindingRow],
    path: Path,
    *,
    scope: ReportScope,
    as_of: datetime,
    filters: str = "",
) -> int:
    """Write ``lines`` as one sheet; ``filters`` says in words which findings they are."""
    title = "Findings" + (f": {filters}" if filters else "")
    with XlsxReport(path, title="Findings", as_of=as_of, scope=scope) as book:
        sheet = book.sheet("Findings", title=title, columns=COLUMNS, freeze_columns=3)
        styles: list[Style | None] = [None] * len(COLUMNS)
        for line in lines:
            styles[0] = SEVERITY_STYLES.get(line.severity)
            styles[1] = class_style(line.finding_class)
            sheet.append(_cells(line), styles)
        if not sheet.rows:
            sheet.after(["No finding in this scope matches these filters."], NOTE)
        return sheet.rows


def findings_workbook_download(
    lines: Sequence[FindingRow], *, scope: ReportScope, as_of: datetime, filters: str = ""
) -> Download:
    """The workbook as bytes, named like the CSV download (by the minute it was cut)."""
    content, rows = written(
        lambda path: write_findings_xlsx(lines, path, scope=scope, as_of=as_of, filters=filters),
        "findings.xlsx",
    )
    return Download(
        content, f"accessrecon-findings-{as_of:%Y%m%d-%H%M}.xlsx", XLSX_MEDIA_TYPE, rows
    )
