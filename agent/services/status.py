"""An org's access status at a glance: what the extension's badge and popup show.

Built from the stored findings and scans only; it never triggers a scan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass, Portal, ScanStatus, Severity
from agent.services.findings import client_of, org_facts
from agent.services.scans import find_org, latest_ok_scan
from agent.storage.models import Finding, Org, Scan


@dataclass(frozen=True, slots=True)
class PersonStatus:
    email: str
    name: str
    finding_class: str
    severity: str
    review_state: str
    access_status: str
    role: str
    removable_by: str
    detail: str


@dataclass(frozen=True, slots=True)
class OrgStatus:
    portal: str
    portal_org_id: str
    name: str
    client: str | None
    client_manager: str | None
    client_archived: bool
    last_ok_scan_at: datetime | None
    last_scan_at: datetime | None
    last_scan_status: str | None
    last_scan_reason: str | None
    stale: bool
    worst_severity: str | None
    open_problems: int
    counts_by_class: dict[str, int] = field(default_factory=dict)
    counts_by_severity: dict[str, int] = field(default_factory=dict)
    people: list[PersonStatus] = field(default_factory=list)


def org_status(
    session: Session, portal: Portal | str, portal_org_id: str, *, stale_after: timedelta
) -> OrgStatus | None:
    """The status of an org the agent knows, or ``None`` for an org it has never listed."""
    org = find_org(session, portal, portal_org_id)
    if org is None:
        return None
    return _status(session, org, stale_after)


def _status(session: Session, org: Org, stale_after: timedelta) -> OrgStatus:
    assert org.id is not None
    client = client_of(session, org)
    facts = org_facts(session, org, client)
    ok = latest_ok_scan(session, org.id)
    last = session.exec(
        select(Scan)
        .where(Scan.org_id == org.id)
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
    ).first()
    findings = list(
        session.exec(
            select(Finding).where(Finding.org_id == org.id, col(Finding.resolved_at).is_(None))
        )
    )
    findings.sort(key=lambda f: (Severity(f.severity).rank, f.name.casefold()))
    problems = [f for f in findings if FindingClass(f.finding_class).is_problem]
    worst = min((Severity(f.severity) for f in problems), key=lambda s: s.rank, default=None)
    stale = ok is None or (utcnow() - ok.finished_at) > stale_after
    return OrgStatus(
        portal=org.portal,
        portal_org_id=org.portal_org_id,
        name=org.name,
        client=facts.client_name,
        client_manager=client.client_manager if client else None,
        client_archived=facts.client_archived,
        last_ok_scan_at=ok.finished_at if ok else None,
        last_scan_at=last.finished_at if last else None,
        last_scan_status=ScanStatus(last.status) if last else None,
        last_scan_reason=last.reason if last else None,
        stale=stale and ok is not None,
        worst_severity=worst.value if worst else None,
        open_problems=len(problems),
        counts_by_class=dict(Counter(f.finding_class for f in findings)),
        counts_by_severity=dict(Counter(f.severity for f in findings)),
        people=[
            PersonStatus(
                email=f.email,
                name=f.name,
                finding_class=f.finding_class,
                severity=f.severity,
                review_state=f.review_state,
                access_status=f.access_status,
                role=f.role,
                removable_by=f.removable_by,
                detail=f.detail,
            )
            for f in findings
        ],
    )
