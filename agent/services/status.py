"""An org's access status at a glance: what the extension's badge and popup show.

Built from the stored findings and scans only; it never triggers a scan. The
extension asks for it on every tab switch and page load, for every member of staff,
so it is the API's hottest read: two statements built once at import with bound
parameters (the org with its client and scan times, then its open findings, each
with when the practice asked the client to remove it, if it did and no scan has yet
shown it gone), rows read as plain tuples, and every count the API returns derived
here from those rows.
It runs on a ``Connection`` (the badge route, no ORM) or a ``Session`` (pages and
routes already holding one, whose pending changes are flushed first as any query
would).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, func, select
from sqlmodel import Session, col

from agent.clock import utcnow
from agent.domain import AccessStatus, FindingClass, Portal, ReviewState, ScanStatus, Severity
from agent.storage.links import join_client
from agent.storage.models import Client, ClientRequest, Finding, Org, Scan


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
    #: why only the client can remove it ("" when the practice can)
    removable_reason: str
    #: the finding's id, for acting on it (a removal plan names findings)
    finding_id: int
    #: when the practice asked the client to remove this access (an open request)
    client_requested_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClientRequestStatus:
    """Someone the practice asked the client to remove, not yet seen gone."""

    email: str
    name: str
    requested_at: datetime


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
    #: the last ok scan is older than the stale threshold
    stale: bool
    #: no ok scan yet: nothing is known about its users
    never_scanned: bool
    #: the most recent scan failed (see ``last_scan_reason``)
    last_scan_failed: bool
    worst_severity: str | None
    open_problems: int
    #: problems nobody has acted on yet (review state ``open``)
    unreviewed_problems: int
    #: people the portal shows (every finding but ``missing_expected``)
    people_count: int
    #: of those, invitations not yet accepted
    pending_count: int
    counts_by_class: dict[str, int] = field(default_factory=dict)
    counts_by_severity: dict[str, int] = field(default_factory=dict)
    #: the problems counted by review state
    counts_by_review_state: dict[str, int] = field(default_factory=dict)
    people: list[PersonStatus] = field(default_factory=list)
    #: open requests to the client to remove someone, oldest first
    client_requests: list[ClientRequestStatus] = field(default_factory=list)


def _latest_scan(column: Any) -> Any:
    return (
        select(column)
        .where(col(Scan.org_id) == col(Org.id))
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
        .limit(1)
        .scalar_subquery()
    )


_ORG = join_client(
    select(
        col(Org.id),
        col(Org.portal),
        col(Org.portal_org_id),
        col(Org.name),
        col(Client.id),
        col(Client.name),
        col(Client.client_manager),
        col(Client.archived),
        select(func.max(Scan.finished_at))
        .where(col(Scan.org_id) == col(Org.id), col(Scan.status) == ScanStatus.OK.value)
        .scalar_subquery(),
        _latest_scan(Scan.finished_at),
        _latest_scan(Scan.status),
        _latest_scan(Scan.reason),
    ).select_from(Org)
).where(
    col(Org.portal) == bindparam("portal"), col(Org.portal_org_id) == bindparam("portal_org_id")
)

_FINDINGS = select(
    col(Finding.email),
    col(Finding.name),
    col(Finding.finding_class),
    col(Finding.severity),
    col(Finding.review_state),
    col(Finding.access_status),
    col(Finding.role),
    col(Finding.removable_by),
    col(Finding.detail),
    col(Finding.removable_reason),
    col(Finding.id),
    select(func.min(ClientRequest.requested_at))
    .where(
        col(ClientRequest.org_id) == col(Finding.org_id),
        col(ClientRequest.identity) == col(Finding.identity),
        col(ClientRequest.seen_removed_at).is_(None),
    )
    .scalar_subquery(),
).where(col(Finding.org_id) == bindparam("org_id"), col(Finding.resolved_at).is_(None))


def org_status(
    source: Session | Connection,
    portal: Portal | str,
    portal_org_id: str,
    *,
    stale_after: timedelta,
) -> OrgStatus | None:
    """The status of an org the agent knows, or ``None`` for an org it has never listed."""
    row = _rows(source, _ORG, {"portal": str(portal), "portal_org_id": portal_org_id}).first()
    if row is None:
        return None
    people = [PersonStatus(*f) for f in _rows(source, _FINDINGS, {"org_id": row[0]})]
    return _status(row, people, stale_after)


def _rows(source: Session | Connection, statement: Executable, params: Mapping[str, Any]) -> Any:
    if isinstance(source, Session):
        return source.exec(statement, params=params)  # type: ignore[call-overload]
    return source.execute(statement, params)


def _status(row: Sequence[Any], people: list[PersonStatus], stale_after: timedelta) -> OrgStatus:
    (
        _,
        portal,
        portal_org_id,
        name,
        client_id,
        client_name,
        manager,
        archived,
        last_ok_at,
        last_at,
        last_status,
        last_reason,
    ) = row
    people.sort(key=lambda p: (Severity(p.severity).rank, p.name.casefold()))
    problems = [p for p in people if FindingClass(p.finding_class).is_problem]
    present = [p for p in people if p.finding_class != FindingClass.MISSING_EXPECTED]
    worst = min((Severity(p.severity) for p in problems), key=lambda s: s.rank, default=None)
    status = ScanStatus(last_status) if last_status else None
    return OrgStatus(
        portal=portal,
        portal_org_id=portal_org_id,
        name=name,
        client=client_name,
        client_manager=manager if client_id is not None else None,
        client_archived=bool(archived),
        last_ok_scan_at=last_ok_at,
        last_scan_at=last_at,
        last_scan_status=status,
        last_scan_reason=last_reason,
        stale=last_ok_at is not None and (utcnow() - last_ok_at) > stale_after,
        never_scanned=last_ok_at is None,
        last_scan_failed=status == ScanStatus.FAILED,
        worst_severity=worst.value if worst else None,
        open_problems=len(problems),
        unreviewed_problems=sum(1 for p in problems if p.review_state == ReviewState.OPEN),
        people_count=len(present),
        pending_count=sum(1 for p in present if p.access_status == AccessStatus.PENDING),
        counts_by_class=dict(Counter(p.finding_class for p in people)),
        counts_by_severity=dict(Counter(p.severity for p in people)),
        counts_by_review_state=dict(Counter(p.review_state for p in problems)),
        people=people,
        client_requests=_requests(people),
    )


def _requests(people: list[PersonStatus]) -> list[ClientRequestStatus]:
    asked = [p for p in people if p.client_requested_at is not None]
    return [
        ClientRequestStatus(p.email, p.name, p.client_requested_at)
        for p in sorted(asked, key=lambda p: (p.client_requested_at, p.email))
        if p.client_requested_at is not None
    ]
