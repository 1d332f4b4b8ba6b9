"""What this process did: the scans its worker ran, its crawls, its memory and CPU.

A worker's figures exist only in its own memory, so they are kept in one registry
per process (``REGISTRY``), which the worker's metrics port serves and the server's
``/metrics`` shows beside the database's (``accessrecon serve`` runs a worker in its
own process, and that worker counts here too). The worker calls the few functions
below; nothing else writes these metrics.

prometheus-client's process collector adds ``process_*`` (resident memory, CPU
seconds, open files) and its platform collector ``python_info``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

#: a crawl of one org takes seconds, of a 10,000-org login hours
CRAWL_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800)

WORKER_SCANS = Counter(
    "accessrecon_worker_scans",
    "Scans this process's worker recorded, by outcome and failure reason.",
    ("status", "reason"),
    registry=REGISTRY,
)
WORKER_REQUESTS = Counter(
    "accessrecon_worker_scan_requests",
    "Scan requests this process's worker ran, by how they ended (done or failed).",
    ("outcome",),
    registry=REGISTRY,
)
WORKER_REMOVAL_RUNS = Counter(
    "accessrecon_worker_removal_runs",
    "Removal runs this process's worker carried out, by how they ended (done or failed).",
    ("outcome",),
    registry=REGISTRY,
)
CRAWLS_IN_PROGRESS = Gauge(
    "accessrecon_worker_crawls_in_progress",
    "Crawls this process's worker is running now.",
    registry=REGISTRY,
)
CRAWL_DURATION = Histogram(
    "accessrecon_worker_crawl_duration_seconds",
    "How long the crawls this process's worker ran took, from start to end.",
    buckets=CRAWL_BUCKETS,
    registry=REGISTRY,
)

DONE = "done"
FAILED = "failed"
# each outcome is shown from the start, at 0, so a rate over the first failure is right
for _outcome in (DONE, FAILED):
    WORKER_REQUESTS.labels(outcome=_outcome)
    WORKER_REMOVAL_RUNS.labels(outcome=_outcome)


@contextmanager
def crawl_in_progress() -> Iterator[None]:
    """Counts a crawl in ``accessrecon_worker_crawls_in_progress`` while the block runs."""
    CRAWLS_IN_PROGRESS.inc()
    try:
        yield
    finally:
        CRAWLS_IN_PROGRESS.dec()


def record_crawl(
    started_at: datetime, finished_at: datetime | None, scans: Iterable[tuple[str, str | None]]
) -> None:
    """A crawl the worker ran: its duration (when it ended) and each scan's (status, reason)."""
    if finished_at is not None:
        CRAWL_DURATION.observe(max(0.0, (finished_at - started_at).total_seconds()))
    for status, reason in scans:
        WORKER_SCANS.labels(status=str(status), reason=str(reason or "")).inc()


def record_request(*, ok: bool) -> None:
    WORKER_REQUESTS.labels(outcome=DONE if ok else FAILED).inc()


def record_removal_run(*, ok: bool) -> None:
    WORKER_REMOVAL_RUNS.labels(outcome=DONE if ok else FAILED).inc()
