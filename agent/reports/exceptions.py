"""The exceptions report: every open finding that needs someone to act, worst first.

One row per open finding whose class is a problem (``FindingClass.is_problem``):
leavers, direct invites, unknown practice users, possible matches, drift, access
on archived clients or unlinked orgs, and grants not seen. Each row says who can
remove the access (the practice, or only the client, and why: the finding's
``removable_by`` and its reason, a fact of the scan, said as every report says it by
``agent.reports.labels.who_can_remove``, so a direct invite is never the practice's)
and where it stands in review, so the sheet can be filtered into work lists.

The workbook says severity, class, portal, status, who can remove it and review
state in words ("Leaver access", "QuickBooks Online", "Invite pending"); the CSV
keeps the codes in those columns and adds a column of words after the existing ones
for each (``agent.reports.csvsafe.labelled``). How many rows there are is what
``agent.reports.totals`` counts for the same scope.

It can run to a hundred thousand rows in a large practice: the rows are read with
``yield_per`` and written as they come, never held.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from agent.domain import FindingClass, Severity
from agent.reports.common import (
    UNLINKED_CLIENT,
    CellKind,
    Column,
    ReportFormat,
    ReportResult,
    ReportScope,
    write_in_format,
)
from agent.reports.csvsafe import labelled, write_csv
from agent.reports.labels import (
    SEVERITY_STYLES,
    class_style,
    permissions_text,
    reason_words,
    role_label,
    status_text,
    who_can_remove,
)
from agent.reports.table_sheet import NOTE, Style
from agent.reports.words import label, spelt_dates
from agent.reports.xlsx import XlsxReport
from agent.storage.links import join_client
from agent.storage.models import Client, Finding, Org, Staff

BATCH = 2_000

COLUMNS = (
    Column("Severity", 10),
    Column("Class", 22),
    Column("Person", 24),
    Column("Email", 30),
    Column("Client", 28),
    Column("Client manager", 20),
    Column("Portal", 7),
    Column("Org", 28),
    Column("Org id", 14),
    Column("Role", 16),
    Column("Extra permissions", 18),
    Column("Status", 9),
    Column("Who can remove it", 11),
    Column("Why the client", 22),
    Column("First seen (UTC)", 17, CellKind.DATETIME),
    Column("Last seen (UTC)", 17, CellKind.DATETIME),
    Column("Review", 16),
    Column("Detail", 60),
    Column("Finding id", 9, CellKind.INT),
)
#: The columns that hold a stored code: the CSV adds a "… label" column for each.
CODED = ("Severity", "Class", "Portal", "Status", "Who can remove it", "Review")


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    severity: str
    finding_class: str
    person: str
    email: str
    client: str
    client_manager: str
    portal: str
    org: str
    org_id: str
    role: str
    extra_permissions: str
    status: str
    removable_by: str
    removable_reason: str
    first_seen: datetime
    last_seen: datetime
    review_state: str
    detail: str
    finding_id: int

    def cells(self) -> tuple[object, ...]:
        return (
            self.severity,
            self.finding_class,
            self.person,
            self.email,
            self.client,
            self.client_manager,
            self.portal,
            self.org,
            self.org_id,
            self.role,
            self.extra_permissions,
            self.status,
            self.removable_by,
            self.removable_reason,
            self.first_seen,
            self.last_seen,
            self.review_state,
            self.detail,
            self.finding_id,
        )

    def words(self) -> tuple[object, ...]:
        """The row as the workbook shows it: codes in words, dates in details spelt out."""
        return (
            label(self.severity),
            label(self.finding_class),
            self.person,
            self.email,
            self.client,
            self.client_manager,
            label(self.portal),
            self.org,
            self.org_id,
            self.role,
            self.extra_permissions,
            label(self.status),
            label(self.removable_by),
            reason_words(self.removable_reason),
            self.first_seen,
            self.last_seen,
            label(self.review_state),
            spelt_dates(self.detail),
            self.finding_id,
        )


def exception_rows(session: Session, *, scope: ReportScope) -> Iterator[ExceptionRow]:
    """Open problem findings in scope, worst severity first, streamed in batches."""
    severity_rank = case(
        {s.value: i for i, s in enumerate(Severity)},
        value=col(Finding.severity),
        else_=len(Severity),
    )
    class_rank = case(
        {c.value: i for i, c in enumerate(FindingClass)},
        value=col(Finding.finding_class),
        else_=len(FindingClass),
    )
    query = (
        join_client(
            select(
                Finding.id,
                Finding.severity,
                Finding.finding_class,
                Finding.name,
                Staff.name,
                Finding.email,
                Client.name,
                Client.client_manager,
                Org.portal,
                Org.name,
                Org.portal_org_id,
                Finding.role,
                Finding.extra_permissions,
                Finding.access_status,
                Finding.removable_by,
                Finding.removable_reason,
                Finding.first_seen_at,
                Finding.last_seen_at,
                Finding.review_state,
                Finding.detail,
            )
            .select_from(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
        )
        .join(Staff, col(Staff.id) == col(Finding.staff_id), isouter=True)
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem]),
        )
        .order_by(
            severity_rank,
            class_rank,
            func.coalesce(Client.name, ""),
            Org.name,
            Org.id,
            Finding.identity,
            Finding.id,
        )
    )
    result = session.exec(scope.restrict(query).execution_options(yield_per=BATCH))
    for (
        finding_id,
        severity,
        finding_class,
        seen_name,
        staff_name,
        email,
        client,
        manager,
        portal,
        org,
        org_id,
        role,
        extras,
        access_status,
        removable_by,
        removable_reason,
        first_seen,
        last_seen,
        review_state,
        detail,
    ) in result:
        who = who_can_remove(finding_class, removable_by, removable_reason)
        yield ExceptionRow(
            severity=severity,
            finding_class=finding_class,
            person=staff_name or seen_name,
            email=email,
            client=client if client is not None else UNLINKED_CLIENT,
            client_manager=manager or "",
            portal=portal,
            org=org,
            org_id=org_id,
            role=role_label(portal, role) if role else "",
            extra_permissions=permissions_text(portal, role, extras),
            status=status_text(finding_class, access_status),
            removable_by=who.by,
            removable_reason=who.reason,
            first_seen=first_seen,
            last_seen=last_seen,
            review_state=review_state,
            detail=detail,
            finding_id=finding_id,
        )


def write_exceptions_xlsx(
    rows: Iterator[ExceptionRow], path: Path, *, scope: ReportScope, as_of: datetime
) -> int:
    with XlsxReport(path, title="Exceptions", as_of=as_of, scope=scope) as book:
        sheet = book.sheet(
            "Exceptions",
            title="Exceptions: open findings that need action",
            columns=COLUMNS,
            freeze_columns=3,
        )
        styles: list[Style | None] = [None] * len(COLUMNS)
        for row in rows:
            styles[0] = SEVERITY_STYLES.get(row.severity)
            styles[1] = class_style(row.finding_class)
            sheet.append(row.words(), styles)
        if not sheet.rows:
            sheet.after(["No open finding needs action in this scope."], NOTE)
        return sheet.rows


def write_exceptions_csv(rows: Iterator[ExceptionRow], path: Path) -> int:
    """The codes as stored, then a "… label" column of words for each coded column."""
    header, cells = labelled(
        [c.title for c in COLUMNS], (r.cells() for r in rows), CODED, suffix=" label"
    )
    return write_csv(path, header, cells)


def write_exceptions_report(
    session: Session,
    path: Path,
    *,
    fmt: ReportFormat = ReportFormat.XLSX,
    scope: Collection[int] | None = None,
    scope_label: str | None = None,
    as_of: datetime | None = None,
) -> ReportResult:
    """Write the exceptions report to ``path``; returns it with its row count."""
    cut = ReportScope.of(scope, scope_label)
    return write_in_format(
        exception_rows(session, scope=cut),
        path,
        fmt,
        scope=cut,
        as_of=as_of,
        csv=write_exceptions_csv,
        xlsx=write_exceptions_xlsx,
    )
