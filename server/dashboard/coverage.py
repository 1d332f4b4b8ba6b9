"""Which orgs in the viewer's scope are known, and how well: ok, failed, stale, never read.

Coverage is the other half of "no false empties": an org whose last scan failed,
whose last good read is old, or which was never read, tells nothing about who can
get into it, and the overview says so instead of counting it as clean. Built from
a few grouped queries over all orgs in scope, not one query per org, so the
overview stays quick with thousands of orgs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass, ScanStatus, Severity
from agent.security.scope import Scope
from agent.storage.links import join_client
from agent.storage.models import Client, Finding, Org, Scan
from server.queries import scope_condition


class Coverage(StrEnum):
    OK = "ok"
    FAILED = "failed"
    STALE = "stale"
    NEVER = "never"


#: after the orgs with problems, the ones whose coverage tells nothing come first
_TELLS_NOTHING_FIRST = {Coverage.FAILED: 0, Coverage.NEVER: 1, Coverage.STALE: 2, Coverage.OK: 3}

COVERAGE_LABELS = {
    Coverage.OK: "Read recently",
    Coverage.FAILED: "Last scan failed",
    Coverage.STALE: "Stale",
    Coverage.NEVER: "Never read",
}


@dataclass(frozen=True, slots=True)
class OrgCoverage:
    org_id: int
    portal: str
    portal_org_id: str
    name: str
    client: str | None
    client_manager: str | None
    state: Coverage
    last_scan_at: datetime | None
    last_ok_scan_at: datetime | None
    last_reason: str | None
    open_problems: int
    worst_severity: str | None


def orgs_in_scope(session: Session, scope: Scope) -> list[tuple[Org, Client | None]]:
    query = join_client(select(Org, Client).select_from(Org)).order_by(col(Org.name), col(Org.id))
    in_scope = scope_condition(scope)
    if in_scope is not None:
        query = query.where(in_scope)
    return list(session.exec(query).all())


def org_coverage(
    session: Session, scope: Scope, *, stale_after: timedelta, now: datetime | None = None
) -> list[OrgCoverage]:
    """Every org in ``scope`` with its coverage state and open problems, by name."""
    now = now or utcnow()
    orgs = orgs_in_scope(session, scope)
    ranked = select(
        col(Scan.org_id),
        col(Scan.status),
        col(Scan.reason),
        col(Scan.finished_at),
        func.row_number()
        .over(
            partition_by=col(Scan.org_id),
            order_by=(col(Scan.finished_at).desc(), col(Scan.id).desc()),
        )
        .label("n"),
    ).subquery()
    latest = {
        org_id: (status, reason, at)
        for org_id, status, reason, at in session.exec(
            select(ranked.c.org_id, ranked.c.status, ranked.c.reason, ranked.c.finished_at).where(
                ranked.c.n == 1
            )
        )
    }
    last_ok = dict(
        session.exec(  # type: ignore[arg-type]
            select(Scan.org_id, func.max(Scan.finished_at))
            .where(Scan.status == ScanStatus.OK)
            .group_by(col(Scan.org_id))
        ).all()
    )
    problems: dict[int, Counter[str]] = {}
    for org_id, severity, count in session.exec(
        select(Finding.org_id, Finding.severity, func.count())
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.finding_class).in_([c.value for c in FindingClass if c.is_problem]),
        )
        .group_by(col(Finding.org_id), col(Finding.severity))
    ):
        problems.setdefault(org_id, Counter())[severity] += count
    rows = []
    for org, client in orgs:
        assert org.id is not None
        status, reason, at = latest.get(org.id, (None, None, None))
        ok_at = last_ok.get(org.id)
        if status is not None and status != ScanStatus.OK:
            state = Coverage.FAILED
            reason = reason or status
        elif ok_at is None:
            state = Coverage.NEVER
        elif now - ok_at > stale_after:
            state = Coverage.STALE
        else:
            state = Coverage.OK
        counts = problems.get(org.id, Counter())
        worst = min((Severity(s) for s in counts), key=lambda s: s.rank, default=None)
        rows.append(
            OrgCoverage(
                org_id=org.id,
                portal=org.portal,
                portal_org_id=org.portal_org_id,
                name=org.name,
                client=client.name if client else None,
                client_manager=client.client_manager if client else None,
                state=state,
                last_scan_at=at,
                last_ok_scan_at=ok_at,
                last_reason=reason if state is Coverage.FAILED else None,
                open_problems=sum(counts.values()),
                worst_severity=worst.value if worst else None,
            )
        )
    return rows


def problems_first(rows: list[OrgCoverage]) -> list[OrgCoverage]:
    """Orgs with open problems first (worst severity, then most problems), then the orgs
    whose last scan failed, never read and stale ones, each group by name."""
    return sorted(
        rows,
        key=lambda r: (
            Severity(r.worst_severity).rank if r.worst_severity else len(Severity),
            -r.open_problems,
            _TELLS_NOTHING_FIRST[r.state],
            r.name.casefold(),
            r.portal,
            r.portal_org_id,
        ),
    )
