"""What the findings say, as lists: open findings with their org and client, stale orgs.

``FindingRow`` is the one shape of "a finding with the org and client it is about":
the command line's lists, the findings export (``agent.reports.findings``) and the
API's ``FindingOut`` all read it, so a field added here reaches each of them from
one constructor instead of three copies that drift apart.

``stale_orgs`` names the orgs whose newest ok scan is older than the
``stale_after_hours`` setting: what the findings say of them is "as of" then.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass
from agent.services.capture_findings import capture_missing_note
from agent.services.scans import latest_ok_scan
from agent.storage.links import join_client
from agent.storage.models import Client, ClientOrgLink, Finding, Org

PROBLEM_CLASSES = tuple(c for c in FindingClass if c.is_problem)

_CLASS_ORDER = {c.value: i for i, c in enumerate(FindingClass)}


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A finding with the org and client it is about: what lists, exports and the API show.

    ``client`` and ``client_manager`` are ``None`` for an org linked to no client;
    ``capture_note`` is what a person is told while a passive capture's miss awaits
    an agent scan (``agent.services.capture_findings``).
    """

    id: int
    portal: str
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    staff_id: int | None
    email: str
    name: str
    finding_class: str
    severity: str
    role: str
    intended_role: str | None
    extra_permissions: tuple[str, ...]
    access_status: str
    removable_by: str
    #: why only the client can remove it ("" when the practice can)
    removable_reason: str
    review_state: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    detail: str
    capture_missing_at: datetime | None
    capture_note: str | None

    @classmethod
    def of(cls, finding: Finding, org: Org, client: Client | None) -> FindingRow:
        """The row for a stored finding, its org and the org's client (if it has one)."""
        assert finding.id is not None
        return cls(
            id=finding.id,
            portal=org.portal,
            portal_org_id=org.portal_org_id,
            org_name=org.name,
            client=client.name if client else None,
            client_manager=client.client_manager if client else None,
            staff_id=finding.staff_id,
            email=finding.email,
            name=finding.name,
            finding_class=finding.finding_class,
            severity=finding.severity,
            role=finding.role,
            intended_role=finding.intended_role,
            extra_permissions=tuple(finding.extra_permissions),
            access_status=finding.access_status,
            removable_by=finding.removable_by,
            removable_reason=finding.removable_reason,
            review_state=finding.review_state,
            first_seen_at=finding.first_seen_at,
            last_seen_at=finding.last_seen_at,
            resolved_at=finding.resolved_at,
            detail=finding.detail,
            capture_missing_at=finding.capture_missing_at,
            capture_note=capture_missing_note(finding),
        )


def open_findings(
    session: Session,
    *,
    client_ids: Collection[int] | None = None,
    classes: Sequence[str] = (),
    portal: str | None = None,
    problems_only: bool = False,
) -> list[FindingRow]:
    """Open findings, by class precedence, then portal, org and email.

    ``client_ids`` keeps orgs linked to those clients only (``None``: every org,
    linked or not). ``classes`` wins over ``problems_only`` (the classes that need
    action).
    """
    query = join_client(
        select(Finding, Org, Client).join(Org, col(Org.id) == col(Finding.org_id))
    ).where(col(Finding.resolved_at).is_(None))
    if client_ids is not None:
        query = query.where(col(ClientOrgLink.client_id).in_(sorted(client_ids)))
    if classes:
        query = query.where(col(Finding.finding_class).in_(list(classes)))
    elif problems_only:
        query = query.where(col(Finding.finding_class).in_([c.value for c in PROBLEM_CLASSES]))
    if portal:
        query = query.where(Org.portal == portal)
    rows = [FindingRow.of(f, org, client) for f, org, client in session.exec(query)]
    rows.sort(key=lambda r: (_CLASS_ORDER.get(r.finding_class, 99), r.portal, r.org_name, r.email))
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
