"""The workload report: per client manager, then per job manager, what each carries.

Practices balance work by how many clients and how much annual fee (the budget)
each manager holds, and want to see beside it who has access problems to chase:
clients with open findings that need action, and how many of those are critical
(leavers) or high (direct invites, unknown practice addresses).

Archived clients are not workload: they are counted apart and left out of the
client count and budget, and "with open findings" counts them the same way (an
archived client with findings is counted under "Archived with open findings", never
among the clients worked for). Their findings still count (access to an archived
client's books is a finding in itself). A client with no fee recorded is counted
under "No budget set", so a low total is never mistaken for a complete one.

Orgs linked to no client have no manager, yet an unscoped report says it includes
them: they get a row of their own at the foot of each table, with their findings
and no client figures. So the total row states what ``agent.reports.totals`` counts
for the same scope, and what the exceptions report lists.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from agent.reports.common import (
    CellKind,
    Column,
    ReportFormat,
    ReportResult,
    ReportScope,
    write_in_format,
)
from agent.reports.csvsafe import write_csv
from agent.reports.totals import SeverityCounts, open_findings_by_client, unlinked_org_count
from agent.reports.words import plural
from agent.reports.xlsx import XlsxReport
from agent.storage.models import Client

NO_CLIENT_MANAGER = "No client manager"
NO_JOB_MANAGER = "No job manager"
UNLINKED_ORGS = "Orgs linked to no client"


def _columns(who: str) -> tuple[Column, ...]:
    return (
        Column(who, 26),
        Column("Clients", 9, CellKind.INT),
        Column("Total budget", 14, CellKind.MONEY),
        Column("No budget set", 10, CellKind.INT),
        Column("Archived clients", 10, CellKind.INT),
        Column("Archived with open findings", 12, CellKind.INT),
        Column("Clients with open findings", 12, CellKind.INT),
        Column("… with critical", 10, CellKind.INT),
        Column("… with high", 10, CellKind.INT),
        Column("Open findings", 10, CellKind.INT),
        Column("Critical findings", 10, CellKind.INT),
        Column("High findings", 10, CellKind.INT),
    )


CLIENT_MANAGER_COLUMNS = _columns("Client manager")
JOB_MANAGER_COLUMNS = _columns("Job manager")
#: The CSV's columns after "Grouped by" and "Manager": the order scripts have read since
#: before archived clients with findings were counted apart, that count last.
CSV_COLUMNS = (
    "Clients",
    "Total budget",
    "No budget set",
    "Archived clients",
    "Clients with open findings",
    "… with critical",
    "… with high",
    "Open findings",
    "Critical findings",
    "High findings",
    "Archived with open findings",
)
_FIELDS = (
    "clients",
    "budget",
    "no_budget",
    "archived",
    "archived_with_findings",
    "clients_with_findings",
    "clients_with_critical",
    "clients_with_high",
    "findings",
    "critical",
    "high",
)


@dataclass(slots=True)
class WorkloadRow:
    """One manager's figures; ``orgs_only`` for the orgs linked to no client, which have
    findings but no client, budget or archive figures (left empty, not zero)."""

    manager: str
    clients: int = 0
    budget: float = 0.0
    no_budget: int = 0
    archived: int = 0
    archived_with_findings: int = 0
    clients_with_findings: int = 0
    clients_with_critical: int = 0
    clients_with_high: int = 0
    findings: int = 0
    critical: int = 0
    high: int = 0
    orgs_only: bool = False

    def cells(self) -> tuple[object, ...]:
        """The workbook's row, in ``CLIENT_MANAGER_COLUMNS``' order."""
        figures = [getattr(self, name) for name in _FIELDS]
        if self.orgs_only:
            figures[:8] = [None] * 8
        return (self.manager, *figures)

    def csv_cells(self) -> tuple[object, ...]:
        """The CSV's row after its "Grouped by" cell, in ``CSV_COLUMNS``' order."""
        by_title = dict(zip((c.title for c in CLIENT_MANAGER_COLUMNS), self.cells(), strict=True))
        return (self.manager, *(by_title[title] for title in CSV_COLUMNS))

    def add(self, other: WorkloadRow) -> None:
        for name in _FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class Workload:
    by_client_manager: tuple[WorkloadRow, ...]
    by_job_manager: tuple[WorkloadRow, ...]
    total: WorkloadRow = field(default_factory=lambda: WorkloadRow("Total"))


@dataclass(frozen=True, slots=True)
class _ClientFacts:
    client_manager: str
    job_manager: str
    fee: float | None
    archived: bool
    found: SeverityCounts


def _rows(facts: Iterable[_ClientFacts], key: str, nobody: str) -> list[WorkloadRow]:
    rows: dict[str, WorkloadRow] = {}
    for fact in facts:
        # One manager however the client list spells them ("Ana Ruiz", "ana  ruiz ").
        manager = " ".join(getattr(fact, key).split()) or nobody
        row = rows.setdefault(manager.casefold(), WorkloadRow(manager))
        found = fact.found
        if fact.archived:
            row.archived += 1
            row.archived_with_findings += found.total > 0
        else:
            row.clients += 1
            if fact.fee is None:
                row.no_budget += 1
            else:
                row.budget += fact.fee
            row.clients_with_findings += found.total > 0
            row.clients_with_critical += found.critical > 0
            row.clients_with_high += found.high > 0
        row.findings += found.total
        row.critical += found.critical
        row.high += found.high
    return sorted(rows.values(), key=lambda r: (r.manager == nobody, r.manager.casefold()))


def _unlinked_row(session: Session, scope: ReportScope, found: SeverityCounts) -> WorkloadRow:
    orgs, _ = unlinked_org_count(session, scope=scope)
    return WorkloadRow(
        f"{UNLINKED_ORGS} ({plural(orgs, 'org')})",
        findings=found.total,
        critical=found.critical,
        high=found.high,
        orgs_only=True,
    )


def workload(session: Session, *, scope: ReportScope) -> Workload:
    """Both tables for the clients in scope (clients are few: read whole); an unscoped
    report ends each table with the orgs linked to no client."""
    counts = open_findings_by_client(session, scope=scope)
    query = select(Client)
    if scope.client_ids is not None:
        query = query.where(col(Client.id).in_(sorted(scope.client_ids)))
    nothing = SeverityCounts()
    facts = [
        _ClientFacts(
            c.client_manager, c.job_manager, c.annual_fee, c.archived, counts.get(c.id, nothing)
        )
        for c in session.exec(query)
    ]
    by_client = _rows(facts, "client_manager", NO_CLIENT_MANAGER)
    by_job = _rows(facts, "job_manager", NO_JOB_MANAGER)
    if scope.everything:
        unlinked = _unlinked_row(session, scope, counts.get(None, nothing))
        by_client.append(unlinked)
        by_job.append(unlinked)
    total = WorkloadRow("Total")
    for row in by_client:
        total.add(row)
    return Workload(tuple(by_client), tuple(by_job), total)


def write_workload_xlsx(data: Workload, path: Path, *, scope: ReportScope, as_of: datetime) -> int:
    with XlsxReport(path, title="Workload", as_of=as_of, scope=scope) as book:
        for name, title, columns, rows in (
            (
                "By client manager",
                "Workload by client manager",
                CLIENT_MANAGER_COLUMNS,
                data.by_client_manager,
            ),
            ("By job manager", "Workload by job manager", JOB_MANAGER_COLUMNS, data.by_job_manager),
        ):
            sheet = book.sheet(name, title=title, columns=columns, freeze_columns=1)
            for row in rows:
                sheet.append(row.cells())
            sheet.after(data.total.cells())
    return len(data.by_client_manager) + len(data.by_job_manager)


def write_workload_csv(data: Workload, path: Path) -> int:
    """Both tables in one: a first column says which manager the row is grouped by."""
    header = ["Grouped by", "Manager", *CSV_COLUMNS]
    rows = [("client manager", *r.csv_cells()) for r in data.by_client_manager]
    rows += [("job manager", *r.csv_cells()) for r in data.by_job_manager]
    return write_csv(path, header, rows)


def write_workload_report(
    session: Session,
    path: Path,
    *,
    fmt: ReportFormat = ReportFormat.XLSX,
    scope: Collection[int] | None = None,
    scope_label: str | None = None,
    as_of: datetime | None = None,
) -> ReportResult:
    """Write the workload report to ``path``; returns it with its row count (both tables)."""
    cut = ReportScope.of(scope, scope_label)
    return write_in_format(
        workload(session, scope=cut),
        path,
        fmt,
        scope=cut,
        as_of=as_of,
        csv=write_workload_csv,
        xlsx=write_workload_xlsx,
    )
