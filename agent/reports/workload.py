"""The workload report: per client manager, then per job manager, what each carries.

Practices balance work by how many clients and how much annual fee (the budget)
each manager holds, and want to see beside it who has access problems to chase:
clients with open findings that need action, and how many of those are critical
(leavers) or high (direct invites, unknown practice addresses).

Archived clients are not workload: they are counted apart and left out of the
client count and budget, but their findings still count (access to an archived
client's books is a finding in itself). A client with no fee recorded is counted
under "No budget set", so a low total is never mistaken for a complete one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.domain import FindingClass, Severity
from agent.reports.common import (
    CellKind,
    Column,
    ReportFormat,
    ReportResult,
    ReportScope,
    write_in_format,
)
from agent.reports.csvsafe import write_csv
from agent.reports.xlsx import XlsxReport
from agent.storage.links import join_client
from agent.storage.models import Client, ClientOrgLink, Finding, Org

NO_MANAGER = "(none)"


def _columns(who: str) -> tuple[Column, ...]:
    return (
        Column(who, 26),
        Column("Clients", 9, CellKind.INT),
        Column("Total budget", 14, CellKind.MONEY),
        Column("No budget set", 10, CellKind.INT),
        Column("Archived clients", 10, CellKind.INT),
        Column("Clients with open findings", 12, CellKind.INT),
        Column("… with critical", 10, CellKind.INT),
        Column("… with high", 10, CellKind.INT),
        Column("Open findings", 10, CellKind.INT),
        Column("Critical findings", 10, CellKind.INT),
        Column("High findings", 10, CellKind.INT),
    )


CLIENT_MANAGER_COLUMNS = _columns("Client manager")
JOB_MANAGER_COLUMNS = _columns("Job manager")


@dataclass(slots=True)
class WorkloadRow:
    manager: str
    clients: int = 0
    budget: float = 0.0
    no_budget: int = 0
    archived: int = 0
    clients_with_findings: int = 0
    clients_with_critical: int = 0
    clients_with_high: int = 0
    findings: int = 0
    critical: int = 0
    high: int = 0

    def cells(self) -> tuple[object, ...]:
        return (
            self.manager,
            self.clients,
            self.budget,
            self.no_budget,
            self.archived,
            self.clients_with_findings,
            self.clients_with_critical,
            self.clients_with_high,
            self.findings,
            self.critical,
            self.high,
        )

    def add(self, other: WorkloadRow) -> None:
        for name in (
            "clients",
            "budget",
            "no_budget",
            "archived",
            "clients_with_findings",
            "clients_with_critical",
            "clients_with_high",
            "findings",
            "critical",
            "high",
        ):
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
    by_severity: dict[str, int]


def _findings_by_client(session: Session, scope: ReportScope) -> dict[int, dict[str, int]]:
    query = (
        join_client(
            select(ClientOrgLink.client_id, Finding.severity, func.count(col(Finding.id)))
            .select_from(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
        )
        .where(
            col(ClientOrgLink.client_id).is_not(None),
            col(Finding.resolved_at).is_(None),
            col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem]),
        )
        .group_by(col(ClientOrgLink.client_id), col(Finding.severity))
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for client_id, severity, count in session.exec(scope.restrict(query)):
        counts[client_id][severity] = count
    return counts


def _rows(facts: Iterable[_ClientFacts], key: str) -> tuple[WorkloadRow, ...]:
    rows: dict[str, WorkloadRow] = {}
    for fact in facts:
        # One manager however the client list spells them ("Ana Ruiz", "ana  ruiz ").
        manager = " ".join(getattr(fact, key).split()) or NO_MANAGER
        row = rows.setdefault(manager.casefold(), WorkloadRow(manager))
        if fact.archived:
            row.archived += 1
        else:
            row.clients += 1
            if fact.fee is None:
                row.no_budget += 1
            else:
                row.budget += fact.fee
        found = sum(fact.by_severity.values())
        critical = fact.by_severity.get(Severity.CRITICAL, 0)
        high = fact.by_severity.get(Severity.HIGH, 0)
        row.findings += found
        row.critical += critical
        row.high += high
        row.clients_with_findings += found > 0
        row.clients_with_critical += critical > 0
        row.clients_with_high += high > 0
    return tuple(
        sorted(rows.values(), key=lambda r: (r.manager == NO_MANAGER, r.manager.casefold()))
    )


def workload(session: Session, *, scope: ReportScope) -> Workload:
    """Both tables for the clients in scope (clients are few: read whole)."""
    counts = _findings_by_client(session, scope)
    query = select(Client)
    if scope.client_ids is not None:
        query = query.where(col(Client.id).in_(sorted(scope.client_ids)))
    facts = [
        _ClientFacts(
            c.client_manager, c.job_manager, c.annual_fee, c.archived, counts.get(c.id or 0, {})
        )
        for c in session.exec(query)
    ]
    by_client = _rows(facts, "client_manager")
    total = WorkloadRow("Total")
    for row in by_client:
        total.add(row)
    return Workload(by_client, _rows(facts, "job_manager"), total)


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
    header = ["Grouped by", "Manager", *(c.title for c in CLIENT_MANAGER_COLUMNS[1:])]
    rows = [("client manager", *r.cells()) for r in data.by_client_manager]
    rows += [("job manager", *r.cells()) for r in data.by_job_manager]
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
