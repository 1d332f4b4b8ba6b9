"""The leaver report: every org a person can still reach, grouped by client manager.

The practice removes what its agent's login in the org may remove; the rest only the
client can (the sheet says why), so each client manager gets a sheet of their own
clients to call, with the client's contact address where the client list has one.
The first sheet sums it up per manager. Orgs linked to no client (and clients with
no manager) go on a sheet of their own, because nobody's client list would otherwise
show them.

Besides the person's own addresses, the report lists *possible* matches: a private
address whose name resembles theirs and that nobody has confirmed or rejected yet
(class ``probable_match``). A leaver invited on a personal address is exactly the
access a practice cannot see any other way, so it is shown, marked for checking,
rather than left out until someone confirms it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, or_, select

from agent.clock import utcnow
from agent.domain import AccessStatus, FindingClass
from agent.reconcile.identity import normalise_email
from agent.reports.common import (
    NO_MANAGER,
    UNLINKED_CLIENT,
    CellKind,
    Column,
    ReportFormat,
    ReportScope,
)
from agent.reports.csvsafe import write_csv
from agent.reports.download import XLSX_MEDIA_TYPE, Download, written
from agent.reports.labels import class_style, permissions_text, role_label, status_text
from agent.reports.table_sheet import NOTE, Style
from agent.reports.xlsx import XlsxReport, sheet_link
from agent.services.staff import emails_of
from agent.storage.links import join_client
from agent.storage.models import Client, Finding, MatchCandidate, Org, Staff, StaffEmail

__all__ = [
    "COLUMNS",
    "NO_MANAGER",
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

COLUMNS = (
    Column("Client", 30),
    Column("Org", 30),
    Column("Portal", 8),
    Column("Org id", 14),
    Column("Email", 32),
    Column("Role", 18),
    Column("Extra permissions", 20),
    Column("Status", 9),
    Column("Class", 20),
    Column("Who can remove it", 12),
    Column("Why the client", 24),
    Column("Last seen (UTC)", 17, CellKind.DATETIME),
    Column("Client contact", 28),
)
_CLASS_COLUMN = 8
_SUMMARY_COLUMNS = (
    Column("Client manager", 28),
    Column("Orgs", 8, CellKind.INT),
    Column("Practice can remove", 12, CellKind.INT),
    Column("Only the client can remove", 14, CellKind.INT),
    Column("Pending invitations", 12, CellKind.INT),
    Column("Possible matches to confirm", 14, CellKind.INT),
    Column("Sheet", 28),
)


class PersonNotFound(LookupError):
    """No staff member, or more than one, answers to the name or email given."""


@dataclass(frozen=True, slots=True)
class LeaverRow:
    client_manager: str
    client: str
    org: str
    portal: str
    org_id: str
    email: str
    role: str
    extra_permissions: str
    status: str
    finding_class: str
    removable_by: str
    last_seen: datetime
    client_contact: str = ""
    #: why only the client can remove it ("" when the practice can)
    removable_reason: str = ""

    def cells(self) -> tuple[object, ...]:
        """The row as ``COLUMNS`` lays it out."""
        return (
            self.client,
            self.org,
            self.portal,
            self.org_id,
            self.email,
            self.role,
            self.extra_permissions,
            self.status,
            self.finding_class,
            self.removable_by,
            self.removable_reason,
            self.last_seen,
            self.client_contact,
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

    def by_manager(self) -> list[tuple[str, list[LeaverRow]]]:
        groups: dict[str, list[LeaverRow]] = defaultdict(list)
        for row in self.rows:
            groups[row.client_manager].append(row)
        return sorted(groups.items(), key=lambda kv: (kv[0] == NO_MANAGER, kv[0].casefold()))


def find_staff(session: Session, who: str) -> Staff:
    """The one staff member a name or email names; an error listing candidates otherwise."""
    text = who.strip()
    if "@" in text:
        wanted = normalise_email(text)
        matches = list(
            session.exec(
                select(Staff)
                .join(StaffEmail, col(StaffEmail.staff_id) == col(Staff.id))
                .where(or_(StaffEmail.email == wanted, StaffEmail.email == text.casefold()))
            ).unique()
        )
    else:
        matches = [s for s in session.exec(select(Staff)) if s.name.casefold() == text.casefold()]
        if not matches:
            matches = [
                s for s in session.exec(select(Staff)) if text.casefold() in s.name.casefold()
            ]
    if not matches:
        raise PersonNotFound(f"no staff member matches {who!r}")
    if len(matches) > 1:
        names = ", ".join(sorted(f"{s.name} (#{s.id})" for s in matches))
        raise PersonNotFound(f"{who!r} matches several staff: {names}; give an email instead")
    return matches[0]


def leaver_rows(
    session: Session,
    staff: Staff,
    *,
    scope: Collection[int] | None = None,
    possible: bool = True,
) -> list[LeaverRow]:
    """Every open access of the person in scope (not intended-but-missing grants).

    With ``possible``, unconfirmed probable matches naming the person are included.
    """
    cut = ReportScope.of(scope)
    base = join_client(select(Finding, Org, Client).join(Org, col(Org.id) == col(Finding.org_id)))
    open_access = (
        col(Finding.resolved_at).is_(None),
        col(Finding.access_status).in_([AccessStatus.ACTIVE, AccessStatus.PENDING]),
    )
    queries = [
        cut.restrict(
            base.where(
                Finding.staff_id == staff.id,
                Finding.finding_class != FindingClass.MISSING_EXPECTED,
                *open_access,
            )
        )
    ]
    if possible:
        queries.append(
            cut.restrict(
                base.join(MatchCandidate, col(MatchCandidate.finding_id) == col(Finding.id)).where(
                    MatchCandidate.staff_id == staff.id,
                    Finding.finding_class == FindingClass.PROBABLE_MATCH,
                    *open_access,
                )
            )
        )
    rows: dict[int, LeaverRow] = {}
    for query in queries:
        for finding, org, client in session.exec(query):
            assert finding.id is not None
            rows[finding.id] = LeaverRow(
                client_manager=(
                    client.client_manager if client and client.client_manager else NO_MANAGER
                ),
                client=client.name if client else UNLINKED_CLIENT,
                org=org.name,
                portal=org.portal,
                org_id=org.portal_org_id,
                email=finding.email,
                role=role_label(org.portal, finding.role),
                extra_permissions=permissions_text(
                    org.portal, finding.role, finding.extra_permissions
                ),
                status=status_text(finding.finding_class, finding.access_status),
                finding_class=finding.finding_class,
                removable_by=finding.removable_by,
                last_seen=finding.last_seen_at,
                client_contact=client.contact_email if client else "",
                removable_reason=finding.removable_reason,
            )
    return sorted(
        rows.values(),
        key=lambda r: (
            r.client_manager == NO_MANAGER,
            r.client_manager.casefold(),
            r.client.casefold(),
            r.portal,
            r.org.casefold(),
            r.email,
        ),
    )


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


def write_leaver_xlsx(
    report: LeaverReport, path: Path, *, scope: ReportScope, as_of: datetime
) -> int:
    """The workbook: a summary sheet, then one sheet per client manager."""
    status = report.status.replace("_", " ")
    left = f", left on {report.left_on:%Y-%m-%d}" if report.left_on else ""
    groups = report.by_manager()
    with XlsxReport(path, title=f"Leaver report: {report.name}", as_of=as_of, scope=scope) as book:
        summary = book.sheet(
            "Summary",
            title=f"Leaver report: {report.name} ({status}{left})",
            columns=_SUMMARY_COLUMNS,
        )
        sheets = [
            book.sheet(
                manager,
                columns=COLUMNS,
                title=(
                    f"{report.name}: orgs with no client manager"
                    if manager == NO_MANAGER
                    else f"{report.name}: access on {manager}'s clients"
                ),
            )
            for manager, _ in groups
        ]
        totals = [0, 0, 0, 0, 0]
        for (manager, items), sheet in zip(groups, sheets, strict=True):
            counts = [
                len(items),
                sum(1 for r in items if r.removable_by == "practice"),
                sum(1 for r in items if r.removable_by != "practice"),
                sum(1 for r in items if r.status == AccessStatus.PENDING),
                sum(1 for r in items if r.finding_class == FindingClass.PROBABLE_MATCH),
            ]
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            summary.append([manager, *counts, sheet.name])
            summary.link(6, sheet_link(sheet.name), sheet.name)
            for row in items:
                styles: list[Style | None] = [None] * len(COLUMNS)
                styles[_CLASS_COLUMN] = class_style(row.finding_class)
                sheet.append(row.cells(), styles)
        summary.after(["Total", *totals])
        notes = [
            f"Addresses on the roster: {', '.join(report.emails) or 'none'}.",
            "Where only the client can remove access ('Why the client' says why), the "
            "client manager asks the client to remove it.",
        ]
        if totals[4]:
            notes.append(
                "Possible matches are private addresses whose name resembles this "
                "person: confirm or reject them with 'accessrecon review'."
            )
        if not report.rows:
            notes.insert(0, "This person can reach no org in this scope.")
        for note in notes:
            summary.after([note], NOTE)
    return len(report.rows)


def write_leaver_csv(report: LeaverReport, path: Path) -> int:
    """One table: the client manager, then the workbook's columns."""
    header = ["Client manager", *(c.title for c in COLUMNS)]
    return write_csv(path, header, ((r.client_manager, *r.cells()) for r in report.rows))


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
