"""The evidence pack's summary for people: what the records say, in four tables.

* **Coverage** — every org known by the period's end: *read ok* (an ok agent scan in
  the period), *stale* (read ok before the period, not in it) or *never read* (no ok
  agent scan up to the period's end), with its scans in the period and the last
  failure's reason. A passive capture is not counted as a read: only the agent's
  own scans resolve findings.
* **Leaver access closed** — leaver findings resolved in the period: when the access
  was first seen, when its removal was first asked for (a review, a removal plan or
  a request to the client), when the practice removed it, and when a scan showed it
  gone.
* **Open exceptions** — accepted risks still open when the pack is built: who
  accepted them, why, and until when.
* **Campaign results by manager** — for each review campaign alive in the period,
  each reviewer's items: decided, and how (keep, remove, not my client, already gone).

It is gathered apart from the records, with aggregate queries: its size is that of
the practice's orgs and exceptions, not of the period's scans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import Session, col

from agent.domain import CampaignDecision, FindingClass, ReviewState, ScanSource, ScanStatus
from agent.services.evidence.period import Period
from agent.storage.links import join_client
from agent.storage.models import (
    Campaign,
    CampaignItem,
    Client,
    ClientRequest,
    Finding,
    FindingReview,
    Org,
    RemovalItem,
    RemovalPlan,
    Scan,
)

__all__ = [
    "CampaignResult",
    "CoverageRow",
    "EvidenceSummary",
    "LeaverClosed",
    "OpenException",
    "summarise",
]

READ_OK = "read ok"
STALE = "stale"
NEVER_READ = "never read"
COVERAGE_STATES = (READ_OK, STALE, NEVER_READ)
PRACTICE_ADMINS = "Practice admins"


@dataclass(frozen=True, slots=True)
class CoverageRow:
    portal: str
    portal_org_id: str
    org: str
    client: str
    state: str
    last_ok_at: datetime | None
    ok_scans: int
    failed_scans: int
    last_failure: str


@dataclass(frozen=True, slots=True)
class LeaverClosed:
    person: str
    email: str
    portal: str
    portal_org_id: str
    org: str
    client: str
    first_seen: datetime
    removal_requested: datetime | None
    removed: datetime | None
    verified_gone: datetime
    how: str


@dataclass(frozen=True, slots=True)
class OpenException:
    person: str
    email: str
    finding_class: str
    portal: str
    portal_org_id: str
    org: str
    client: str
    accepted_by: str
    accepted_at: datetime | None
    reason: str
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign: str
    reviewer: str
    items: int
    decided: int
    keep: int
    remove: int
    not_my_client: int
    already_gone: int


@dataclass(frozen=True, slots=True)
class EvidenceSummary:
    period: Period
    generated_at: datetime
    #: records per kind, in the pack's order
    records: Mapping[str, int]
    coverage: tuple[CoverageRow, ...] = ()
    leavers_closed: tuple[LeaverClosed, ...] = ()
    exceptions: tuple[OpenException, ...] = ()
    campaigns: tuple[CampaignResult, ...] = ()
    coverage_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.records.values())

    @property
    def empty(self) -> bool:
        return self.total == 0


def summarise(
    session: Session, period: Period, *, records: Mapping[str, int], now: datetime
) -> EvidenceSummary:
    """The summary of ``period``; ``records`` are the pack's counts per kind."""
    coverage = tuple(_coverage(session, period))
    counts = {state: sum(1 for r in coverage if r.state == state) for state in COVERAGE_STATES}
    return EvidenceSummary(
        period=period,
        generated_at=now,
        records=dict(records),
        coverage=coverage,
        leavers_closed=tuple(_leavers_closed(session, period)),
        exceptions=tuple(_open_exceptions(session)),
        campaigns=tuple(_campaign_results(session, period)),
        coverage_counts=counts,
    )


def _coverage(session: Session, period: Period) -> Iterable[CoverageRow]:
    agent_scan = col(Scan.source) == ScanSource.AGENT
    ok = agent_scan & (col(Scan.status) == ScanStatus.OK)
    in_period = (col(Scan.finished_at) >= period.begins) & (col(Scan.finished_at) < period.ends)
    before_end = col(Scan.finished_at) < period.ends
    per_org = (
        select(
            col(Scan.org_id).label("org_id"),
            func.max(case((ok & before_end, col(Scan.finished_at)))).label("last_ok"),
            func.count(case((ok & in_period, 1))).label("ok_scans"),
            func.count(
                case((agent_scan & in_period & (col(Scan.status) != ScanStatus.OK), 1))
            ).label("failed_scans"),
            func.max(
                case((agent_scan & in_period & (col(Scan.status) != ScanStatus.OK), Scan.id))
            ).label("last_failed_id"),
        )
        .group_by(col(Scan.org_id))
        .subquery()
    )
    last_failed = Scan.__table__.alias("last_failed")  # type: ignore[attr-defined]
    query = join_client(
        select(
            col(Org.portal),
            col(Org.portal_org_id),
            col(Org.name),
            col(Client.name),
            per_org.c.last_ok,
            per_org.c.ok_scans,
            per_org.c.failed_scans,
            last_failed.c.status,
            last_failed.c.reason,
        )
        .select_from(Org)
        .join(per_org, per_org.c.org_id == col(Org.id), isouter=True)
        .join(last_failed, last_failed.c.id == per_org.c.last_failed_id, isouter=True)
    ).where(col(Org.first_seen_at) < period.ends)
    query = query.order_by(col(Org.portal), col(Org.name), col(Org.portal_org_id))
    for (
        portal,
        org_id,
        name,
        client,
        last_ok,
        ok_n,
        failed_n,
        f_status,
        f_reason,
    ) in session.execute(query):
        if ok_n:
            state = READ_OK
        elif last_ok is not None:
            state = STALE
        else:
            state = NEVER_READ
        yield CoverageRow(
            portal=portal,
            portal_org_id=org_id,
            org=name,
            client=client or "",
            state=state,
            last_ok_at=last_ok,
            ok_scans=ok_n or 0,
            failed_scans=failed_n or 0,
            last_failure=(f_reason or f_status or "") if failed_n else "",
        )


def _leavers_closed(session: Session, period: Period) -> Iterable[LeaverClosed]:
    query = join_client(
        select(Finding, col(Org.portal), col(Org.portal_org_id), col(Org.name), col(Client.name))
        .select_from(Finding)
        .join(Org, col(Org.id) == col(Finding.org_id))
    ).where(
        col(Finding.finding_class) == FindingClass.LEAVER_ACCESS,
        col(Finding.resolved_at) >= period.begins,
        col(Finding.resolved_at) < period.ends,
    )
    rows = list(session.execute(query.order_by(col(Finding.resolved_at), col(Finding.id))))
    ids = [row[0].id for row in rows]
    if not ids:
        return
    asked: dict[int, datetime] = {}
    removed: dict[int, datetime] = {}
    client_asked: set[int] = set()

    def earliest(finding_id: int, at: datetime | None) -> None:
        if at is not None and (finding_id not in asked or at < asked[finding_id]):
            asked[finding_id] = at

    for finding_id, at in session.execute(
        select(col(FindingReview.finding_id), col(FindingReview.at)).where(
            col(FindingReview.finding_id).in_(ids),
            col(FindingReview.to_state) == ReviewState.REMOVAL_REQUESTED,
        )
    ):
        earliest(finding_id, at)
    for item_finding, created, removed_at in session.execute(
        select(
            col(RemovalItem.finding_id), col(RemovalPlan.created_at), col(RemovalItem.removed_at)
        )
        .join(RemovalPlan, col(RemovalPlan.id) == col(RemovalItem.plan_id))
        .where(col(RemovalItem.finding_id).in_(ids))
    ):
        if item_finding is None:
            continue
        earliest(item_finding, created)
        if removed_at is not None and (
            item_finding not in removed or removed_at < removed[item_finding]
        ):
            removed[item_finding] = removed_at
    for request_finding, requested in session.execute(
        select(col(ClientRequest.finding_id), col(ClientRequest.requested_at)).where(
            col(ClientRequest.finding_id).in_(ids)
        )
    ):
        if request_finding is not None:
            earliest(request_finding, requested)
            client_asked.add(request_finding)
    for finding, portal, org_id, org, client in rows:
        assert finding.id is not None
        assert finding.resolved_at is not None
        if finding.id in removed:
            how = "removed by the practice, then seen gone"
        elif finding.id in client_asked:
            how = "the client was asked; seen gone"
        elif finding.id in asked:
            how = "removal asked for; seen gone"
        else:
            how = "seen gone without a request"
        yield LeaverClosed(
            person=finding.name,
            email=finding.email,
            portal=portal,
            portal_org_id=org_id,
            org=org,
            client=client or "",
            first_seen=finding.first_seen_at,
            removal_requested=asked.get(finding.id),
            removed=removed.get(finding.id),
            verified_gone=finding.resolved_at,
            how=how,
        )


def _open_exceptions(session: Session) -> Iterable[OpenException]:
    latest = (
        select(func.max(col(FindingReview.id)).label("review_id"), col(FindingReview.finding_id))
        .where(col(FindingReview.to_state) == ReviewState.ACCEPTED_RISK)
        .group_by(col(FindingReview.finding_id))
        .subquery()
    )
    query = join_client(
        select(
            Finding,
            col(Org.portal),
            col(Org.portal_org_id),
            col(Org.name),
            col(Client.name),
            FindingReview,
        )
        .select_from(Finding)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .join(latest, latest.c.finding_id == col(Finding.id), isouter=True)
        .join(FindingReview, col(FindingReview.id) == latest.c.review_id, isouter=True)
    ).where(
        col(Finding.review_state) == ReviewState.ACCEPTED_RISK,
        col(Finding.resolved_at).is_(None),
    )
    query = query.order_by(col(FindingReview.expires_on), col(Finding.id))
    for finding, portal, org_id, org, client, review in session.execute(query):
        yield OpenException(
            person=finding.name,
            email=finding.email,
            finding_class=finding.finding_class,
            portal=portal,
            portal_org_id=org_id,
            org=org,
            client=client or "",
            accepted_by=review.actor if review else "",
            accepted_at=review.at if review else None,
            reason=review.reason if review else "",
            expires_on=review.expires_on if review else None,
        )


def _campaign_results(session: Session, period: Period) -> Iterable[CampaignResult]:
    decision = col(CampaignItem.decision)

    def counted(value: str) -> ColumnElement[int]:
        return func.count(case((decision == value, 1)))

    query = (
        select(
            col(Campaign.name),
            col(CampaignItem.reviewer),
            func.count(),
            func.count(case((decision != "", 1))),
            counted(CampaignDecision.KEEP),
            counted(CampaignDecision.REMOVE),
            counted(CampaignDecision.NOT_MY_CLIENT),
            counted(CampaignDecision.ALREADY_GONE),
        )
        .select_from(CampaignItem)
        .join(Campaign, col(Campaign.id) == col(CampaignItem.campaign_id))
        .where(
            col(Campaign.started_at) < period.ends,
            col(Campaign.closed_at).is_(None) | (col(Campaign.closed_at) >= period.begins),
        )
        .group_by(col(Campaign.id), col(Campaign.name), col(CampaignItem.reviewer))
        .order_by(col(Campaign.id), col(CampaignItem.reviewer))
    )
    for name, reviewer, items, decided, keep, remove, not_mine, gone in session.execute(query):
        yield CampaignResult(
            campaign=name,
            reviewer=reviewer or PRACTICE_ADMINS,
            items=items,
            decided=decided,
            keep=keep,
            remove=remove,
            not_my_client=not_mine,
            already_gone=gone,
        )
