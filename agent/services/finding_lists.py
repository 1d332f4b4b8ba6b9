"""What the findings say, as lists: open findings with their org and client, stale orgs.

``stale_orgs`` names the orgs whose newest ok scan is older than the
``stale_after_hours`` setting: what the findings say of them is "as of" then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass
from agent.services.scans import latest_ok_scan
from agent.storage.links import join_client
from agent.storage.models import Client, Finding, Org

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
    query = join_client(
        select(Finding, Org, Client).join(Org, col(Org.id) == col(Finding.org_id))
    ).where(col(Finding.resolved_at).is_(None))
    if classes:
        query = query.where(col(Finding.finding_class).in_(list(classes)))
    elif problems_only:
        query = query.where(col(Finding.finding_class).in_([c.value for c in PROBLEM_CLASSES]))
    if portal:
        query = query.where(Org.portal == portal)
    rows = [
        FindingRow(
            portal=org.portal,
            portal_org_id=org.portal_org_id,
            org_name=org.name,
            client=client.name if client else None,
            client_manager=client.client_manager if client else None,
            email=f.email,
            name=f.name,
            finding_class=f.finding_class,
            severity=f.severity,
            role=f.role,
            access_status=f.access_status,
            removable_by=f.removable_by,
            review_state=f.review_state,
            first_seen_at=f.first_seen_at,
            last_seen_at=f.last_seen_at,
            detail=f.detail,
        )
        for f, org, client in session.exec(query)
    ]
    order = {c.value: i for i, c in enumerate(FindingClass)}
    rows.sort(key=lambda r: (order.get(r.finding_class, 99), r.portal, r.org_name, r.email))
    return rows


@dataclass(frozen=True, slots=True)
class StaleOrg:
    """An org whose findings are old news: its newest ok scan is older than the setting.

    ``stale_since`` is the time of that newest ok scan (the moment the findings are
    "as of"), or when the org was first listed if it never had one.
    """

    org_id: int
    portal: str
    portal_org_id: str
    name: str
    stale_since: datetime
    last_ok_scan_at: datetime | None


def stale_since(
    session: Session, org_id: int, *, stale_after_hours: int, now: datetime | None = None
) -> datetime | None:
    """When the org's findings went unrefreshed from, if it is stale; ``None`` if fresh."""
    org = session.get(Org, org_id)
    if org is None:
        return None
    scan = latest_ok_scan(session, org_id)
    since = scan.finished_at if scan else org.first_seen_at
    if (now or utcnow()) - since > timedelta(hours=stale_after_hours):
        return since
    return None


def stale_orgs(
    session: Session, *, stale_after_hours: int, now: datetime | None = None
) -> list[StaleOrg]:
    """Every stale org, longest stale first."""
    stale: list[StaleOrg] = []
    for org in session.exec(select(Org)):
        assert org.id is not None
        scan = latest_ok_scan(session, org.id)
        since = stale_since(session, org.id, stale_after_hours=stale_after_hours, now=now)
        if since is not None:
            stale.append(
                StaleOrg(
                    org.id,
                    org.portal,
                    org.portal_org_id,
                    org.name,
                    since,
                    scan.finished_at if scan else None,
                )
            )
    stale.sort(key=lambda s: (s.stale_since, s.portal, s.portal_org_id))
    return stale
