"""The leaver report: every org a person can still reach, grouped by client manager.

The practice removes what its agent's login in the org may remove; the rest only the
client can (the sheet says why), and a direct invite is always the client's to
remove (``agent.reports.labels.who_can_remove``). So each client manager gets a sheet
of their own clients to call, with the client's contact person and address from the
client list; every sheet names the person and when they left, so a sheet forwarded
on its own still says whose access it lists. The first sheet sums it up per manager,
counting the rows the way the rows say them. Orgs linked to no client (and clients
with no manager) go on a sheet of their own, because nobody's client list would
otherwise show them; archived clients and unlinked orgs are flagged on their rows,
since removing the person from the practice does not remove that access.

The rows come from ``agent.reports.leaver_access``, the query the dashboard's person
page uses too. The workbook speaks words ("QuickBooks Online", "Invite pending",
"Leaver access"); the CSV keeps the stored codes and adds the words beside them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session

from agent.clock import utcnow
from agent.domain import AccessStatus, FindingClass
from agent.reports.common import NO_MANAGER, CellKind, Column, ReportFormat, ReportScope
from agent.reports.csvsafe import write_csv
from agent.reports.download import XLSX_MEDIA_TYPE, Download, written
from agent.reports.labels import DIRECT_INVITE, class_style, reason_words
from agent.reports.leaver_access import (
    FLAG_LABELS,
    LeaverRow,
    PersonNotFound,
    find_staff,
    leaver_rows,
    left_words,
)
from agent.reports.table_sheet import NOTE, Style
from agent.reports.xlsx import XlsxReport, sheet_link
from agent.services.staff import emails_of
from agent.storage.models import Staff

__all__ = [
    "COLUMNS",
    "CSV_HEADER",
    "NO_MANAGER",
    "SUMMARY_COLUMNS",
    "LeaverReport",
    "LeaverRow",
    "PersonNotFound",
    "find_staff",
    "leaver_download",
    "leaver_report",
    "leaver_rows",
    "write_leaver_csv",
    "write_leaver_report",
    "write_leaver_xlsx",
]

#: A manager's sheet, in words. Widths are limits: a column is as wide as its values.
COLUMNS = (
    Column("Client", 24),
    Column("Org", 24),
    Column("Portal", 11),
    Column("Org id", 20),
    Column("Flag", 14),
    Column("Email", 28),
    Column("Role", 20),
    Column("Extra permissions", 18),
    Column("Status", 10),
    Column("Class", 16),
    Column("Who can remove it", 9),
    Column("Why the client", 22),
    Column("Last seen (our scan)", 12, CellKind.DATE),
    Column("Last login (portal)", 12, CellKind.DATE),
    Column("Client contact", 28),
)
_CLASS_COLUMN = 9
SUMMARY_COLUMNS = (
    Column("Client manager", 28),
    Column("Orgs", 8, CellKind.INT),
    Column("Practice can remove", 10, CellKind.INT),
    Column("Only the client can remove", 12, CellKind.INT),
    Column("Invites pending", 10, CellKind.INT),
    Column("Possible matches to confirm", 12, CellKind.INT),
    Column("Archived client or unlinked org", 14, CellKind.INT),
    Column("Sheet", 28),
)
_SHEET_COLUMN = len(SUMMARY_COLUMNS) - 1
#: The CSV: the stored codes in the columns the file has always had, in their order,
#: each code's words beside it, and the newer columns last.
CSV_HEADER = (
    "Client manager",
    "Client",
    "Org",
    "Portal",
    "Portal label",
    "Org id",
    "Email",
    "Role",
    "Extra permissions",
    "Status",
    "Status label",
    "Class",
    "Class label",
    "Who can remove it",
    "Who can remove it label",
    "Why the client",
    "Last seen (UTC)",
    "Client contact",
    "Flag",
    "Flag label",
    "Last login (UTC)",
    "Client contact name",
)


@dataclass(frozen=True, slots=True)
class LeaverReport:
    """A person and their rows, sorted by manager (no manager last), client, org."""

    staff_id: int
    name: str
    status: str
    left_on: date | None
    emails: tuple[str, ...]
    rows: tuple[LeaverRow, ...]

    @property
    def who(self) -> str:
        """The person as every sheet names them: "Hana Chen (left 6 Jan 2026)"."""
        return f"{self.name} ({left_words(self.status, self.left_on)})"

    def by_manager(self) -> list[tuple[str, list[LeaverRow]]]:
        groups: dict[str, list[LeaverRow]] = defaultdict(list)
        for row in self.rows:
            groups[row.client_manager].append(row)
        return sorted(groups.items(), key=lambda kv: (kv[0] == NO_MANAGER, kv[0].casefold()))


def sheet_cells(row: LeaverRow) -> tuple[object, ...]:
    """A row as ``COLUMNS`` lays it out, in words."""
    return (
        row.client,
        row.org,
        row.portal_label,
        row.org_id,
        row.flag_label,
        row.email,
        row.role,
        row.extra_permissions,
        row.status_label,
        row.class_label,
        row.removable_by_label,
        reason_words(row.removable_reason),
        row.last_seen,
        row.last_login,
        row.contact,
    )


def csv_cells(row: LeaverRow) -> tuple[object, ...]:
    """A row as ``CSV_HEADER`` lays it out: codes, and their words beside them."""
    return (
        row.client_manager,
        row.client,
        row.org,
        row.portal,
        row.portal_label,
        row.org_id,
        row.email,
        row.role,
        row.extra_permissions,
        row.status,
        row.status_label,
        row.finding_class,
        row.class_label,
        row.removable_by,
        row.removable_by_label,
        row.removable_reason,
        row.last_seen,
        row.client_contact,
        row.flag,
        row.flag_label,
        row.last_login,
        row.contact_name,
    )


def manager_counts(rows: Collection[LeaverRow]) -> list[int]:
    """A summary line, counted from the rows as they read (``SUMMARY_COLUMNS`` 1 to 6)."""
    return [
        len(rows),
        sum(1 for r in rows if r.removable_by == "practice"),
        sum(1 for r in rows if r.removable_by != "practice"),
        sum(1 for r in rows if r.status == AccessStatus.PENDING),
        sum(1 for r in rows if r.finding_class == FindingClass.PROBABLE_MATCH),
        sum(1 for r in rows if r.flag),
    ]


def leaver_report(
    session: Session, staff: Staff, *, scope: Collection[int] | None = None
) -> LeaverReport:
    assert staff.id is not None
    emails = tuple(emails_of(session, staff.id))
    return LeaverReport(
        staff_id=staff.id,
        name=staff.name,
        status=staff.status,
        left_on=staff.left_on,
        emails=emails,
        rows=tuple(leaver_rows(session, staff, scope=scope)),
    )


def _notes(report: LeaverReport, totals: list[int]) -> list[str]:
    """The sentences under the summary: what the columns of every sheet mean."""
    notes = [
        f"Addresses on the roster: {', '.join(report.emails) or 'none'}.",
        "Who can remove it: 'Practice' where the practice's own login in the org may "
        "remove the person; 'Client' where only the client can, for the reason in 'Why "
        f"the client'. A direct invite is always the client's ({DIRECT_INVITE}): the "
        "client manager asks the client to remove it.",
        "Last seen is when our own scan last showed the access; last login is when the "
        "portal says the person last signed in (empty where the portal does not show it).",
    ]
    if totals[5]:
        notes.append(
            f"Flag: '{FLAG_LABELS['archived_client']}' or '{FLAG_LABELS['unlinked_org']}' "
            "marks access that removing the person from the practice does not remove."
        )
    if totals[4]:
        notes.append(
            "Possible matches are private addresses whose name resembles this "
            "person: confirm or reject them with 'accessrecon review'."
        )
    if not report.rows:
        notes.insert(0, "This person can reach no org in this scope.")
    return notes


def write_leaver_xlsx(
    report: LeaverReport, path: Path, *, scope: ReportScope, as_of: datetime
) -> int:
    """The workbook: a summary sheet, then one sheet per client manager."""
    groups = report.by_manager()
    with XlsxReport(path, title=f"Leaver report: {report.name}", as_of=as_of, scope=scope) as book:
        summary = book.sheet(
            "Summary", title=f"Leaver report: {report.who}", columns=SUMMARY_COLUMNS
        )
        sheets = [
            book.sheet(
                manager,
                columns=COLUMNS,
                title=(
                    f"{report.who}: orgs with no client manager"
                    if manager == NO_MANAGER
                    else f"{report.who}: access on {manager}'s clients"
                ),
            )
            for manager, _ in groups
        ]
        totals = [0] * 6
        for (manager, items), sheet in zip(groups, sheets, strict=True):
            counts = manager_counts(items)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            summary.append([manager, *counts, sheet.name])
            summary.link(_SHEET_COLUMN, sheet_link(sheet.name), sheet.name)
            for row in items:
                styles: list[Style | None] = [None] * len(COLUMNS)
                styles[_CLASS_COLUMN] = class_style(row.finding_class)
                sheet.append(sheet_cells(row), styles)
        summary.after(["Total", *totals])
        for note in _notes(report, totals):
            summary.after([note], NOTE)
    return len(report.rows)


def write_leaver_csv(report: LeaverReport, path: Path) -> int:
    """One table: the client manager, then each column's code and its words."""
    return write_csv(path, list(CSV_HEADER), (csv_cells(r) for r in report.rows))


def write_leaver_report(
    session: Session,
    who: str,
    path: Path,
    *,
    fmt: ReportFormat = ReportFormat.XLSX,
    scope: Collection[int] | None = None,
    scope_label: str | None = None,
    as_of: datetime | None = None,
) -> tuple[Staff, int]:
    """Write the report for the person ``who`` names; returns them and the row count."""
    staff = find_staff(session, who)
    report = leaver_report(session, staff, scope=scope)
    if ReportFormat(fmt) is ReportFormat.CSV:
        return staff, write_leaver_csv(report, path)
    return staff, write_leaver_xlsx(
        report, path, scope=ReportScope.of(scope, scope_label), as_of=as_of or utcnow()
    )


def leaver_download(
    session: Session, who: str, *, scope: ReportScope, as_of: datetime
) -> tuple[Staff, Download]:
    """The workbook for the person ``who`` names, as bytes: the API's download."""
    staff = find_staff(session, who)
    report = leaver_report(session, staff, scope=scope.client_ids)
    content, rows = written(
        lambda path: write_leaver_xlsx(report, path, scope=scope, as_of=as_of), "leaver.xlsx"
    )
    safe_name = "".join(c if c.isalnum() else "-" for c in staff.name).strip("-") or "person"
    return staff, Download(
        content, f"leaver-{safe_name}-{as_of:%Y%m%d}.xlsx", XLSX_MEDIA_TYPE, rows
    )
