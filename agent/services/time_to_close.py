"""How long leaver access stays open: first seen, removal requested, verified removed.

Leaver access is the one finding that is never meant to exist, so the time it takes
to close is the practice's measure of how well it offboards. For each finding of
class ``leaver_access`` (open or resolved), within its current episode (from its
``first_seen_at``: an access gone and back is a new episode):

* **first seen** — ``Finding.first_seen_at``;
* **removal requested** — the earliest of: a removal plan item proposing to remove
  it (planned, or approved), a review decision moving it to ``removal_requested``,
  a request to the client about it;
* **verified removed** — for a resolved finding, the earliest of: its removal item
  verified, its client request seen done, the ok scan that no longer showed it
  (``resolved_at``). An open finding has none.

``time_to_close`` sums these up for the overview: open leaver access by age, and the
median time from first seen to verified removed over access closed in the last 90
days (``None`` when none closed). Everything is cut to the caller's client scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass, RemovalAction, ReviewState
from agent.security.scope import Scope
from agent.storage.links import join_client
from agent.storage.models import (
    Client,
    ClientRequest,
    Finding,
    FindingReview,
    Org,
    RemovalItem,
    RemovalPlan,
)

__all__ = [
    "AGE_BUCKETS",
    "CLOSED_WINDOW",
    "AgeBucket",
    "LeaverAccessTimes",
    "TimeToClose",
    "leaver_access_times",
    "time_to_close",
]

CLOSED_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class AgeBucket:
    """Open leaver access first seen ``low`` to ``high`` whole days ago (``None``: no end)."""

    label: str
    low: int
    high: int | None

    @property
    def key(self) -> str:
        """``0-7``, ``91-``: a stable name for the bucket."""
        return f"{self.low}-{'' if self.high is None else self.high}"

    def holds(self, days: int) -> bool:
        return days >= self.low and (self.high is None or days <= self.high)


AGE_BUCKETS = (
    AgeBucket("0–7 days", 0, 7),
    AgeBucket("8–30 days", 8, 30),
    AgeBucket("31–90 days", 31, 90),
    AgeBucket("over 90 days", 91, None),
)


@dataclass(frozen=True, slots=True)
class LeaverAccessTimes:
    finding_id: int
    org_id: int
    client_id: int | None
    name: str
    email: str
    first_seen_at: datetime
    removal_requested_at: datetime | None
    verified_removed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.verified_removed_at is None

    @property
    def time_to_close(self) -> timedelta | None:
        if self.verified_removed_at is None:
            return None
        return self.verified_removed_at - self.first_seen_at


@dataclass(frozen=True, slots=True)
class TimeToClose:
    #: each age bucket with how many open leaver accesses fall in it, youngest first
    open_by_age: tuple[tuple[AgeBucket, int], ...]
    #: the median time from first seen to verified removed, over ``closed`` accesses
    median: timedelta | None
    #: leaver accesses verified removed within ``CLOSED_WINDOW`` before now
    closed: int

    @property
    def open_total(self) -> int:
        return sum(n for _, n in self.open_by_age)


def leaver_access_times(session: Session, scope: Scope) -> list[LeaverAccessTimes]:
    """Every leaver access in ``scope``, open or resolved, with its three times."""
    rows = session.exec(
        join_client(select(Finding, Client.id).join(Org, col(Org.id) == col(Finding.org_id))).where(
            Finding.finding_class == FindingClass.LEAVER_ACCESS
        )
    ).all()
    findings = [(f, client_id) for f, client_id in rows if scope.allows(client_id)]
    ids = [f.id for f, _ in findings if f.id is not None]
    requested = _removal_requests(session, ids)
    verified = _verifications(session, ids)
    times: list[LeaverAccessTimes] = []
    for finding, client_id in findings:
        assert finding.id is not None
        start = finding.first_seen_at
        closed = None
        if finding.resolved_at is not None:
            closed = _earliest([*verified.get(finding.id, []), finding.resolved_at], start)
        times.append(
            LeaverAccessTimes(
                finding_id=finding.id,
                org_id=finding.org_id,
                client_id=client_id,
                name=finding.name,
                email=finding.email,
                first_seen_at=start,
                removal_requested_at=_earliest(requested.get(finding.id, []), start),
                verified_removed_at=closed,
            )
        )
    return times


def time_to_close(session: Session, scope: Scope, *, now: datetime | None = None) -> TimeToClose:
    """Open leaver access by age, and the median time to close over the last 90 days."""
    now = now or utcnow()
    times = leaver_access_times(session, scope)
    ages = [(now - t.first_seen_at).days for t in times if t.is_open]
    counts = tuple((b, sum(1 for days in ages if b.holds(max(days, 0)))) for b in AGE_BUCKETS)
    durations = [
        t.time_to_close.total_seconds()
        for t in times
        if t.verified_removed_at is not None
        and t.time_to_close is not None
        and now - CLOSED_WINDOW <= t.verified_removed_at <= now
    ]
    return TimeToClose(
        open_by_age=counts,
        median=timedelta(seconds=median(durations)) if durations else None,
        closed=len(durations),
    )


def _earliest(moments: Iterable[datetime | None], start: datetime) -> datetime | None:
    """The earliest moment of the episode that began at ``start``; ``None`` if none."""
    within = [m for m in moments if m is not None and m >= start]
    return min(within) if within else None


def _removal_requests(session: Session, ids: list[int]) -> dict[int, list[datetime | None]]:
    found: dict[int, list[datetime | None]] = {}
    if not ids:
        return found
    for finding_id, planned, approved in session.exec(
        select(RemovalItem.finding_id, RemovalPlan.created_at, RemovalItem.approved_at)
        .join(RemovalPlan, col(RemovalPlan.id) == col(RemovalItem.plan_id))
        .where(
            col(RemovalItem.finding_id).in_(ids),
            col(RemovalItem.action).in_([RemovalAction.REMOVE, RemovalAction.ASK_CLIENT]),
        )
    ):
        if finding_id is not None:
            found.setdefault(finding_id, []).extend((planned, approved))
    for finding_id, at in session.exec(
        select(FindingReview.finding_id, FindingReview.at).where(
            col(FindingReview.finding_id).in_(ids),
            FindingReview.to_state == ReviewState.REMOVAL_REQUESTED,
        )
    ):
        found.setdefault(finding_id, []).append(at)
    for finding_id, at in session.exec(
        select(ClientRequest.finding_id, ClientRequest.requested_at).where(
            col(ClientRequest.finding_id).in_(ids)
        )
    ):
        if finding_id is not None:
            found.setdefault(finding_id, []).append(at)
    return found


def _verifications(session: Session, ids: list[int]) -> dict[int, list[datetime | None]]:
    found: dict[int, list[datetime | None]] = {}
    if not ids:
        return found
    for finding_id, at in session.exec(
        select(RemovalItem.finding_id, RemovalItem.verified_at).where(
            col(RemovalItem.finding_id).in_(ids), col(RemovalItem.verified_at).is_not(None)
        )
    ):
        if finding_id is not None:
            found.setdefault(finding_id, []).append(at)
    for finding_id, at in session.exec(
        select(ClientRequest.finding_id, ClientRequest.seen_removed_at).where(
            col(ClientRequest.finding_id).in_(ids), col(ClientRequest.seen_removed_at).is_not(None)
        )
    ):
        if finding_id is not None:
            found.setdefault(finding_id, []).append(at)
    return found
