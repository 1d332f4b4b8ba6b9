"""A database holding a period of about N evidence records, written fast with Core inserts.

The mix of ``rows.py``: for every 100 records 8 scans (one in ten failed), 80 observed
users (twelve per ok scan, to the 80), 7 findings and 5 audit events, over one org per ten scans.
Rows go straight into the tables in batches, without the product's per-row work
(reconcile, the audit chain): what is timed afterwards is reading them back into a
pack, not making them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert

from agent.storage.db import make_engine, upgrade_to_head
from agent.storage.models import AuditEvent, Finding, Observation, Org, Scan

START = datetime(2026, 11, 2, tzinfo=UTC)
BATCH = 10_000


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(database: Path, records: int) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{database}")
    upgrade_to_head(engine)
    scans, findings, events = records * 8 // 100, records * 7 // 100, records * 5 // 100
    orgs = max(scans // 10, 1)
    ok_scans = [s for s in range(1, scans + 1) if s % 10]
    observations = min(records * 80 // 100, len(ok_scans) * 12)
    at = [START + timedelta(seconds=i) for i in range(max(scans, findings, events) + 1)]
    plan: list[tuple[Table, Iterator[dict[str, Any]]]] = [
        (
            _table(Org),
            (
                {"id": o, "portal": "xero", "portal_org_id": f"!o{o}", "name": f"Org {o} Ltd",
                 "first_seen_at": START, "last_listed_at": START}
                for o in range(1, orgs + 1)
            ),
        ),
        (
            _table(Scan),
            (
                {"id": s, "org_id": s % orgs + 1, "source": "agent",
                 "status": "ok" if s % 10 else "failed", "reason": None if s % 10 else "timeout",
                 "detail": "", "reported_total": 12 if s % 10 else None,
                 "user_count": 12 if s % 10 else 0, "evidence": "JSON total 12",
                 "started_at": at[s], "finished_at": at[s]}
                for s in range(1, scans + 1)
            ),
        ),
        (
            _table(Observation),
            (
                {"id": i + 1, "scan_id": ok_scans[i // 12], "email": f"p{i}@client.example",
                 "name": f"Person {i}", "role": "STANDARD", "extra_permissions": [],
                 "status": "active", "last_login": START, "subscriber": False}
                for i in range(observations)
            ),
        ),
        (
            _table(Finding),
            (
                {"id": f, "org_id": f % orgs + 1, "identity": f"p{f}@harbourco.example",
                 "finding_class": "leaver_access", "severity": "critical",
                 "email": f"p{f}@harbourco.example", "name": f"Person {f}",
                 "role": "STANDARD", "extra_permissions": [], "access_status": "active",
                 "removable_by": "practice", "removable_reason": "", "detail": "",
                 "first_seen_at": at[f], "last_seen_at": at[f], "review_state": "open"}
                for f in range(1, findings + 1)
            ),
        ),
        (
            _table(AuditEvent),
            (
                {"id": e, "at": at[e], "actor": "Pat Partner (user #3)",
                 "action": "removal.approved", "detail": {"plan_id": e, "items": 3},
                 "prev_hash": "", "hash": ""}
                for e in range(1, events + 1)
            ),
        ),
    ]  # fmt: skip
    with engine.begin() as connection:
        for table, rows in plan:
            for batch in _batches(rows):
                connection.execute(insert(table), batch)
    engine.dispose()
    return {"records": scans + observations + findings + events}
