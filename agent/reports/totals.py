"""How much is open, and on how many clients: one count for every place that states it.

The workload report's total row, the exceptions report's rows and the dashboard's
overview each say how many open findings need action in a scope, and on how many
clients. A practice admin reading two of them side by side must see the same
numbers, so they all count here, by the same rules:

* a finding counts when it is open and its class needs action
  (``FindingClass.is_problem``): exactly the exceptions report's rows;
* a client is counted by whether it is archived, the same way for every count:
  ``clients`` and ``clients_with_findings`` are the clients still worked for,
  ``archived_clients`` and ``archived_with_findings`` the archived ones. Access to
  an archived client's books is a finding in itself, so its findings count in
  ``findings`` all the same;
* orgs linked to no client belong to nobody's client list (``ReportScope``): only an
  unscoped count holds them, under ``unlinked_orgs`` and ``findings``, never as
  clients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.domain import FindingClass, Severity
from agent.reports.common import ReportScope
from agent.storage.links import join_client
from agent.storage.models import Client, ClientOrgLink, Finding, Org

__all__ = [
    "PROBLEM_CLASSES",
    "OpenTotals",
    "SeverityCounts",
    "open_findings_by_client",
    "open_totals",
    "unlinked_org_count",
]

#: The classes whose open findings need someone to act: what every count here counts.
PROBLEM_CLASSES = tuple(c.value for c in FindingClass if c.is_problem)


@dataclass(frozen=True, slots=True)
class SeverityCounts:
    """Open problem findings by severity (``critical``, ``high``, ``medium``, ``low``)."""

    by_severity: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    @property
    def critical(self) -> int:
        return self.by_severity.get(Severity.CRITICAL, 0)

    @property
    def high(self) -> int:
        return self.by_severity.get(Severity.HIGH, 0)


@dataclass(frozen=True, slots=True)
class OpenTotals:
    """What is open in one scope; see the module docstring for what each number counts."""

    #: clients not archived, and how many of them have open findings
    clients: int
    clients_with_findings: int
    #: archived clients, and how many of them have open findings
    archived_clients: int
    archived_with_findings: int
    #: orgs linked to no client (0 in a scoped count), and those with open findings
    unlinked_orgs: int
    unlinked_orgs_with_findings: int
    #: every open problem finding in scope, archived clients' and unlinked orgs' too
    findings: SeverityCounts


def open_findings_by_client(
    session: Session, *, scope: ReportScope
) -> dict[int | None, SeverityCounts]:
    """Open problem findings in scope by client id (``None``: orgs linked to no client,
    in an unscoped count only), each by severity. Clients without any are absent."""
    query = (
        join_client(
            select(ClientOrgLink.client_id, Finding.severity, func.count(col(Finding.id)))
            .select_from(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
        )
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.finding_class).in_(PROBLEM_CLASSES),
        )
        .group_by(col(ClientOrgLink.client_id), col(Finding.severity))
    )
    counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    for client_id, severity, count in session.exec(scope.restrict(query)):
        counts[client_id][severity] = count
    return {client_id: SeverityCounts(by) for client_id, by in counts.items()}


def unlinked_org_count(session: Session, *, scope: ReportScope) -> tuple[int, int]:
    """Orgs linked to no client, and how many of those have open problem findings;
    ``(0, 0)`` for a scoped count, which never holds them."""
    if not scope.everything:
        return 0, 0
    unlinked = join_client(select(Org.id).select_from(Org)).where(col(ClientOrgLink.id).is_(None))
    with_findings = unlinked.join(Finding, col(Finding.org_id) == col(Org.id)).where(
        col(Finding.resolved_at).is_(None),
        col(Finding.finding_class).in_(PROBLEM_CLASSES),
    )
    orgs = session.exec(select(func.count()).select_from(unlinked.subquery())).one()
    found = session.exec(
        select(func.count()).select_from(with_findings.distinct().subquery())
    ).one()
    return int(orgs), int(found)


def open_totals(session: Session, *, scope: ReportScope) -> OpenTotals:
    """The scope's totals: what the workload's total row, the exceptions report's row
    count and the overview all state."""
    by_client = open_findings_by_client(session, scope=scope)
    query = select(Client.id, Client.archived)
    if scope.client_ids is not None:
        query = query.where(col(Client.id).in_(sorted(scope.client_ids)))
    clients = archived = clients_with = archived_with = 0
    for client_id, is_archived in session.exec(query):
        found = client_id in by_client
        if is_archived:
            archived += 1
            archived_with += found
        else:
            clients += 1
            clients_with += found
    findings: dict[str, int] = defaultdict(int)
    for counts in by_client.values():
        for severity, n in counts.by_severity.items():
            findings[severity] += n
    unlinked, unlinked_with = unlinked_org_count(session, scope=scope)
    return OpenTotals(
        clients=clients,
        clients_with_findings=clients_with,
        archived_clients=archived,
        archived_with_findings=archived_with,
        unlinked_orgs=unlinked,
        unlinked_orgs_with_findings=unlinked_with,
        findings=SeverityCounts(dict(findings)),
    )
