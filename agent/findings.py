"""Running reconcile over the database and keeping each finding's history.

For every org with an ok scan, the users of its **latest ok scan** are classified;
each (org, identity) keeps one finding row whose first and last seen times come
from the scans that showed it. A finding absent from a newer ok scan is resolved at
that scan's time. Failed scans are never read here, so they can resolve nothing.
Applying the same scan twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from agent.domain import AccessStatus, FindingClass, Portal, ReviewState, StaffStatus
from agent.reconcile import (
    Classification,
    Grant,
    OrgFacts,
    Practice,
    PracticeIndex,
    SeenUser,
    StaffMember,
    classify_org,
)
from agent.reconcile.identity import email_domain
from agent.scans import latest_ok_scan
from agent.storage.models import (
    Client,
    ClientOrgLink,
    Finding,
    IntendedAccess,
    Observation,
    Org,
    PortalLogin,
    Scan,
    Staff,
    StaffEmail,
)


@dataclass(slots=True)
class ReconcileSummary:
    orgs_reconciled: int = 0
    orgs_without_ok_scan: int = 0
    open_by_class: Counter[str] = field(default_factory=Counter)
    new: int = 0
    resolved: int = 0


def practice_domains(session: Session, configured: Sequence[str]) -> frozenset[str]:
    """The configured practice domains, else the domain most staff primary emails share."""
    if configured:
        return frozenset(d.casefold() for d in configured)
    domains = Counter(
        email_domain(e)
        for e in session.exec(select(StaffEmail.email).where(StaffEmail.is_primary))
    )
    if not domains:
        return frozenset()
    top, _ = domains.most_common(1)[0]
    return frozenset({top})


def load_practice(session: Session, domains: frozenset[str]) -> Practice:
    emails: dict[int, list[str]] = {}
    for row in session.exec(
        select(StaffEmail).order_by(col(StaffEmail.is_primary).desc(), col(StaffEmail.id))
    ):
        emails.setdefault(row.staff_id, []).append(row.email)
    staff = tuple(
        StaffMember(id=s.id, name=s.name, status=StaffStatus(s.status),
                    emails=tuple(emails.get(s.id, ())), left_on=s.left_on)
        for s in session.exec(select(Staff)) if s.id is not None
    )
    grants = tuple(
        Grant(staff_id=g.staff_id, portal=Portal(g.portal), portal_org_id=g.portal_org_id,
              role=g.role, extra_permissions=tuple(g.extra_permissions or ()))
        for g in session.exec(select(IntendedAccess))
    )
    agents = frozenset(session.exec(select(PortalLogin.email)))
    return Practice(domains=domains, staff=staff, agent_emails=agents, grants=grants)


def client_of(session: Session, org: Org) -> Client | None:
    """The practice's client an org is linked to, if any."""
    return session.exec(
        select(Client)
        .join(ClientOrgLink, col(ClientOrgLink.client_id) == col(Client.id))
        .where(ClientOrgLink.portal == org.portal, ClientOrgLink.portal_org_id == org.portal_org_id)
    ).first()


def org_facts(session: Session, org: Org, client: Client | None = None) -> OrgFacts:
    client = client or client_of(session, org)
    return OrgFacts(
        portal=Portal(org.portal), portal_org_id=org.portal_org_id, name=org.name,
        client_name=client.name if client else None,
        client_archived=bool(client and client.archived),
    )


def seen_users(session: Session, scan_id: int) -> list[SeenUser]:
    return [
        SeenUser(email=o.email, name=o.name, role=o.role, status=AccessStatus(o.status),
                 extra_permissions=tuple(o.extra_permissions or ()), kind=o.kind)
        for o in session.exec(select(Observation).where(Observation.scan_id == scan_id))
    ]


def reconcile(
    session: Session,
    *,
    configured_domains: Sequence[str] = (),
    org_ids: Iterable[int] | None = None,
) -> ReconcileSummary:
    """Classify every org (or the given ones) from its latest ok scan and store the findings."""
    domains = practice_domains(session, configured_domains)
    index = PracticeIndex.build(load_practice(session, domains))
    query = select(Org)
    if org_ids is not None:
        query = query.where(col(Org.id).in_(list(org_ids)))
    summary = ReconcileSummary()
    for org in session.exec(query).all():
        assert org.id is not None
        scan = latest_ok_scan(session, org.id)
        if scan is None:
            summary.orgs_without_ok_scan += 1
            continue
        results = classify_org(index, org_facts(session, org), seen_users(session, scan.id))
        new, resolved = apply_scan(session, org, scan, results)
        summary.new += new
        summary.resolved += resolved
        summary.orgs_reconciled += 1
    summary.open_by_class.update(
        session.exec(select(Finding.finding_class).where(col(Finding.resolved_at).is_(None)))
    )
    return summary


def apply_scan(
    session: Session, org: Org, scan: Scan, results: Sequence[Classification]
) -> tuple[int, int]:
    """Bring the org's findings up to ``scan``; returns (new, resolved) counts."""
    rows = session.exec(select(Finding).where(Finding.org_id == org.id))
    existing = {f.identity: f for f in rows}
    new = resolved = 0
    current: set[str] = set()
    for result in results:
        current.add(result.identity)
        finding = existing.get(result.identity)
        if finding is None:
            finding = Finding(
                org_id=org.id, identity=result.identity, finding_class=result.finding_class,
                severity=result.finding_class.severity, first_seen_at=scan.finished_at,
                last_seen_at=scan.finished_at, first_scan_id=scan.id, last_scan_id=scan.id,
            )
            new += 1
        elif finding.resolved_at is not None and (finding.last_scan_id or 0) < (scan.id or 0):
            # Gone and back again: a new episode of the same access.
            finding.resolved_at = None
            finding.first_seen_at = scan.finished_at
            finding.first_scan_id = scan.id
            finding.review_state = ReviewState.OPEN
            new += 1
        if finding.finding_class != result.finding_class:
            finding.review_state = ReviewState.OPEN
        finding.finding_class = result.finding_class
        finding.severity = result.finding_class.severity
        finding.staff_id = result.staff_id
        finding.email = result.email
        finding.name = result.name
        finding.role = result.role
        finding.extra_permissions = list(result.extra_permissions)
        finding.access_status = result.access_status
        finding.intended_role = result.intended_role
        finding.removable_by = result.removable_by
        finding.detail = result.detail
        finding.last_seen_at = scan.finished_at
        finding.last_scan_id = scan.id
        session.add(finding)
    for identity, finding in existing.items():
        if identity in current or finding.resolved_at is not None:
            continue
        if (finding.last_scan_id or 0) >= (scan.id or 0):
            continue
        finding.resolved_at = scan.finished_at
        if finding.review_state == ReviewState.REMOVAL_REQUESTED:
            finding.review_state = ReviewState.VERIFIED_REMOVED
        session.add(finding)
        resolved += 1
    session.flush()
    return new, resolved


PROBLEM_CLASSES = tuple(c for c in FindingClass if c.is_problem)


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A finding with the org and client it is about: what lists and exports show."""

    portal: str
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    email: str
    name: str
    finding_class: str
    severity: str
    role: str
    access_status: str
    removable_by: str
    review_state: str
    first_seen_at: object
    last_seen_at: object
    detail: str


def open_findings(
    session: Session,
    *,
    classes: Sequence[str] = (),
    portal: str | None = None,
    problems_only: bool = False,
) -> list[FindingRow]:
    query = (
        select(Finding, Org, Client)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .join(ClientOrgLink, (col(ClientOrgLink.portal) == col(Org.portal))
              & (col(ClientOrgLink.portal_org_id) == col(Org.portal_org_id)), isouter=True)
        .join(Client, col(Client.id) == col(ClientOrgLink.client_id), isouter=True)
        .where(col(Finding.resolved_at).is_(None))
    )
    if classes:
        query = query.where(col(Finding.finding_class).in_(list(classes)))
    elif problems_only:
        query = query.where(col(Finding.finding_class).in_([c.value for c in PROBLEM_CLASSES]))
    if portal:
        query = query.where(Org.portal == portal)
    rows = [
        FindingRow(
            portal=org.portal, portal_org_id=org.portal_org_id, org_name=org.name,
            client=client.name if client else None,
            client_manager=client.client_manager if client else None,
            email=f.email, name=f.name, finding_class=f.finding_class, severity=f.severity,
            role=f.role, access_status=f.access_status, removable_by=f.removable_by,
            review_state=f.review_state, first_seen_at=f.first_seen_at,
            last_seen_at=f.last_seen_at, detail=f.detail,
        )
        for f, org, client in session.exec(query)
    ]
    order = {c.value: i for i, c in enumerate(FindingClass)}
    rows.sort(key=lambda r: (order.get(r.finding_class, 99), r.portal, r.org_name, r.email))
    return rows
