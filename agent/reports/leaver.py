"""The leaver report: every org a person can still reach, grouped by client manager.

A practice removes what it granted; what a client invited directly only the client
can remove, so each client manager gets a sheet of their own clients to call. The
first sheet sums it up; orgs linked to no client get a sheet of their own, because
nobody's client list would otherwise show them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session, col, or_, select

from agent.clock import utcnow
from agent.domain import FindingClass
from agent.reconcile.identity import normalise_email
from agent.reconcile.roles import extra_permission_label, role_of
from agent.reports.workbook import (
    Column,
    as_of_line,
    safe_sheet_title,
    write_cell,
    write_table,
)
from agent.storage.models import Client, ClientOrgLink, Finding, Org, Staff, StaffEmail

NO_MANAGER = "No client manager"

COLUMNS = (
    Column("Client", 30),
    Column("Org", 30),
    Column("Portal", 8),
    Column("Org id", 14),
    Column("Email", 32),
    Column("Role", 18),
    Column("Extra permissions", 20),
    Column("Status", 9),
    Column("Class", 22),
    Column("Who can remove it", 16),
    Column("Last seen", 17),
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

    def cells(self) -> tuple[object, ...]:
        return (self.client, self.org, self.portal, self.org_id, self.email, self.role,
                self.extra_permissions, self.status, self.finding_class, self.removable_by,
                self.last_seen)


def find_staff(session: Session, who: str) -> Staff:
    """The one staff member a name or email names; an error listing candidates otherwise."""
    text = who.strip()
    if "@" in text:
        wanted = normalise_email(text)
        matches = list(session.exec(
            select(Staff).join(StaffEmail, col(StaffEmail.staff_id) == col(Staff.id))
            .where(or_(StaffEmail.email == wanted, StaffEmail.email == text.casefold()))
        ).unique())
    else:
        matches = [s for s in session.exec(select(Staff)) if s.name.casefold() == text.casefold()]
        if not matches:
            matches = [s for s in session.exec(select(Staff))
                       if text.casefold() in s.name.casefold()]
    if not matches:
        raise PersonNotFound(f"no staff member matches {who!r}")
    if len(matches) > 1:
        names = ", ".join(sorted(f"{s.name} (#{s.id})" for s in matches))
        raise PersonNotFound(f"{who!r} matches several staff: {names}; give an email instead")
    return matches[0]


def leaver_rows(session: Session, staff: Staff) -> list[LeaverRow]:
    """Every open access of the person (not intended-but-missing grants), by manager."""
    query = (
        select(Finding, Org, Client)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .join(ClientOrgLink, (col(ClientOrgLink.portal) == col(Org.portal))
              & (col(ClientOrgLink.portal_org_id) == col(Org.portal_org_id)), isouter=True)
        .join(Client, col(Client.id) == col(ClientOrgLink.client_id), isouter=True)
        .where(Finding.staff_id == staff.id, col(Finding.resolved_at).is_(None),
               Finding.finding_class != FindingClass.MISSING_EXPECTED)
    )
    rows = []
    for finding, org, client in session.exec(query):
        role = role_of(org.portal, finding.role)
        rows.append(LeaverRow(
            client_manager=(client.client_manager if client and client.client_manager
                            else NO_MANAGER),
            client=client.name if client else "(not linked to a client)",
            org=org.name, portal=org.portal, org_id=org.portal_org_id, email=finding.email,
            role=role.label or finding.role,
            extra_permissions=", ".join(extra_permission_label(p)
                                        for p in finding.extra_permissions),
            status=finding.access_status, finding_class=finding.finding_class,
            removable_by=finding.removable_by, last_seen=finding.last_seen_at,
        ))
    return sorted(rows, key=lambda r: (r.client_manager, r.client.casefold(), r.portal, r.org))


def write_leaver_report(session: Session, who: str, path: Path) -> tuple[Staff, int]:
    """Write the workbook for the person ``who`` names; returns them and the row count."""
    staff = find_staff(session, who)
    rows = leaver_rows(session, staff)
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
        subtitle=as_of_line(as_of, f"all clients · {len(rows)} orgs the person can reach"),
        columns=(Column("Client manager", 28), Column("Orgs", 8),
                 Column("Only the client can remove", 26), Column("Sheet", 28)),
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
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return staff, len(rows)
