"""What the practice's database knows, counted at scrape time.

Every process reads the same database, so these figures are the same whoever counts
them; the server counts them, and workers do not, or a practice with three workers
would see its scans three times. Each query is cheap: a range of a primary key (the
append-only tables, through ``totals``), an indexed status, or a small table
(crawls, removal items, logins).

* ``accessrecon_scans_total{portal,status,reason}``: every scan recorded, crawled or
  captured; ``reason`` is empty for a scan that did not fail.
* ``accessrecon_sign_in_failures_total{portal,login_id,reason}``: failed sign-ins.
* ``accessrecon_scan_queue_depth{status}``: scan requests queued and running;
  ``accessrecon_removal_runs_queued``: removal runs asked for and not yet taken.
* ``accessrecon_crawls_running``; ``accessrecon_last_crawl_duration_seconds{portal}``
  and ``accessrecon_last_crawl_finished_timestamp_seconds{portal}``: each portal's
  latest finished crawl (``all`` for a crawl of every portal; a resumed crawl counts
  from its first start).
* ``accessrecon_removal_items{portal,state}``: removal items by where they stand.
* ``accessrecon_logins_needing_sign_in{portal}``: interactive logins waiting for a
  person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection, Engine, Table, func, select

from agent.clock import utcnow
from agent.crawl.scan_queue import QUEUED, RUNNING
from agent.crawl.store import RUNNING as CRAWL_RUNNING
from agent.metrics.totals import DEFAULT_GRACE, AppendOnlyTotals, Labels
from agent.services.signins import FAILED as SIGN_IN_FAILED
from agent.storage.models import (
    Crawl,
    Org,
    PortalLogin,
    RemovalItem,
    RemovalPlan,
    Scan,
    ScanRequest,
    SignInAttempt,
)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


SCAN = _table(Scan)
ORG = _table(Org)
LOGIN = _table(PortalLogin)
SIGN_IN = _table(SignInAttempt)
CRAWL = _table(Crawl)
REQUEST = _table(ScanRequest)
PLAN = _table(RemovalPlan)
ITEM = _table(RemovalItem)

#: crawls a removal run opens to re-read its orgs: not crawls of the practice
REMOVAL_TRIGGER = "removal"
#: the portal label of a crawl of every portal
EVERY_PORTAL = "all"


def _largest_id(table: Table) -> Callable[[Connection], int | None]:
    def largest(connection: Connection) -> int | None:
        value = connection.execute(select(func.max(table.c.id))).scalar()
        return int(value) if value is not None else None

    return largest


def _grouped(connection: Connection, query: Any) -> Counter[Labels]:
    counts: Counter[Labels] = Counter()
    for *labels, count in connection.execute(query):
        counts[tuple("" if v is None else str(v) for v in labels)] += int(count)
    return counts


def _scan_counts(connection: Connection, low: int, high: int | None) -> Counter[Labels]:
    labels = (ORG.c.portal, SCAN.c.status, SCAN.c.reason)
    query = (
        select(*labels, func.count())
        .select_from(SCAN.outerjoin(ORG, ORG.c.id == SCAN.c.org_id))
        .where(SCAN.c.id > low)
        .group_by(*labels)
    )
    if high is not None:
        query = query.where(SCAN.c.id <= high)
    return _grouped(connection, query)


def _sign_in_failure_counts(connection: Connection, low: int, high: int | None) -> Counter[Labels]:
    labels = (LOGIN.c.portal, SIGN_IN.c.login_id, SIGN_IN.c.reason)
    query = (
        select(*labels, func.count())
        .select_from(SIGN_IN.outerjoin(LOGIN, LOGIN.c.id == SIGN_IN.c.login_id))
        .where(SIGN_IN.c.id > low, SIGN_IN.c.status == SIGN_IN_FAILED)
        .group_by(*labels)
    )
    if high is not None:
        query = query.where(SIGN_IN.c.id <= high)
    return _grouped(connection, query)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class DatabaseCollector:
    """A prometheus-client collector over one database; keep one per server."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.scans = AppendOnlyTotals(_scan_counts, _largest_id(SCAN), grace=grace)
        self.sign_in_failures = AppendOnlyTotals(
            _sign_in_failure_counts, _largest_id(SIGN_IN), grace=grace
        )

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        with self.engine.connect() as connection:
            families = [
                self._scans(connection, now),
                self._sign_ins(connection, now),
                *self._queue(connection),
                *self._crawls(connection),
                self._removals(connection),
                self._needing_sign_in(connection),
            ]
        yield from families

    def _scans(self, connection: Connection, now: datetime) -> Metric:
        family = CounterMetricFamily(
            "accessrecon_scans",
            "Scans recorded (crawled or captured), by portal, outcome and failure reason.",
            labels=("portal", "status", "reason"),
        )
        for labels, count in sorted(self.scans.read(connection, now=now).items()):
            family.add_metric(list(labels), count)
        return family

    def _sign_ins(self, connection: Connection, now: datetime) -> Metric:
        family = CounterMetricFamily(
            "accessrecon_sign_in_failures",
            "Failed sign-ins of the portal logins, by portal, login id and reason.",
            labels=("portal", "login_id", "reason"),
        )
        for labels, count in sorted(self.sign_in_failures.read(connection, now=now).items()):
            family.add_metric(list(labels), count)
        return family

    def _queue(self, connection: Connection) -> list[Metric]:
        depth = GaugeMetricFamily(
            "accessrecon_scan_queue_depth",
            "Scan requests waiting for a worker (queued) and being run (running).",
            labels=("status",),
        )
        counts = _grouped(
            connection,
            select(REQUEST.c.status, func.count())
            .where(REQUEST.c.status.in_((QUEUED, RUNNING)))
            .group_by(REQUEST.c.status),
        )
        for status in (QUEUED, RUNNING):
            depth.add_metric([status], counts[(status,)])
        removal_runs = connection.execute(
            select(func.count()).where(PLAN.c.run_requested_at.is_not(None))
        ).scalar_one()
        runs = GaugeMetricFamily(
            "accessrecon_removal_runs_queued",
            "Removal runs asked for from the API or the dashboard, not yet taken by a worker.",
            value=int(removal_runs),
        )
        return [depth, runs]

    def _crawls(self, connection: Connection) -> list[Metric]:
        running = connection.execute(
            select(func.count()).where(CRAWL.c.status == CRAWL_RUNNING)
        ).scalar_one()
        latest = (
            select(func.max(CRAWL.c.id))
            .where(CRAWL.c.finished_at.is_not(None), CRAWL.c.trigger != REMOVAL_TRIGGER)
            .group_by(CRAWL.c.portal)
        )
        rows = connection.execute(
            select(CRAWL.c.portal, CRAWL.c.started_at, CRAWL.c.finished_at).where(
                CRAWL.c.id.in_(latest)
            )
        ).all()
        duration = GaugeMetricFamily(
            "accessrecon_last_crawl_duration_seconds",
            "How long each portal's latest finished crawl took (all: a crawl of every portal).",
            labels=("portal",),
        )
        finished = GaugeMetricFamily(
            "accessrecon_last_crawl_finished_timestamp_seconds",
            "When each portal's latest finished crawl ended, in seconds since 1970 (UTC).",
            labels=("portal",),
        )
        for portal, started_at, finished_at in sorted(rows, key=lambda r: r[0] or ""):
            label = [portal or EVERY_PORTAL]
            ended = _aware(finished_at)
            duration.add_metric(label, max(0.0, (ended - _aware(started_at)).total_seconds()))
            finished.add_metric(label, ended.timestamp())
        in_progress = GaugeMetricFamily(
            "accessrecon_crawls_running",
            "Crawls under way in any process (or killed, until resumed).",
            value=int(running),
        )
        return [in_progress, duration, finished]

    def _removals(self, connection: Connection) -> Metric:
        labels = (ORG.c.portal, ITEM.c.state)
        counts = _grouped(
            connection,
            select(*labels, func.count())
            .select_from(ITEM.outerjoin(ORG, ORG.c.id == ITEM.c.org_id))
            .group_by(*labels),
        )
        family = GaugeMetricFamily(
            "accessrecon_removal_items",
            "Removal plan items by portal and state (planned, approved, removed, verified...).",
            labels=("portal", "state"),
        )
        for key, count in sorted(counts.items()):
            family.add_metric(list(key), count)
        return family

    def _needing_sign_in(self, connection: Connection) -> Metric:
        counts = _grouped(
            connection,
            select(LOGIN.c.portal, func.count())
            .where(LOGIN.c.needs_sign_in_since.is_not(None))
            .group_by(LOGIN.c.portal),
        )
        family = GaugeMetricFamily(
            "accessrecon_logins_needing_sign_in",
            "Interactive portal logins whose stored sign-in is gone: a person must connect them.",
            labels=("portal",),
        )
        for (portal,), count in sorted(counts.items()):
            family.add_metric([portal], count)
        return family
