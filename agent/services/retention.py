"""Retention: old observations go only through an audited admin command.

Scans and observations are append-only evidence, so nothing in the product deletes
them on its own. An admin may purge the *observations* of scans older than a cut-off,
keeping every scan row (its outcome, counts and reason stay as evidence), the
latest ok scan of every org, the latest ok agent scan of every org (what passive
captures are applied on top of, ``agent.services.capture_findings.capture_view``), and every scan a
finding points to as first or last seen. The purge is written to the audit log with
who, when and how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from agent.clock import utcnow
from agent.domain import ScanSource, ScanStatus
from agent.storage.models import AuditEvent, Finding, Observation, Scan


@dataclass(frozen=True, slots=True)
class Purge:
    cutoff: datetime
    scans: int
    observations: int


def _protected_scans(session: Session) -> set[int]:
    latest_ok = (
        select(func.max(Scan.id))
        .where(col(Scan.status) == ScanStatus.OK)
        .group_by(col(Scan.org_id))
    )
    keep = set(session.execute(latest_ok).scalars())
    keep.update(
        session.execute(latest_ok.where(col(Scan.source) != ScanSource.EXTENSION)).scalars()
    )
    ends = select(col(Finding.first_scan_id), col(Finding.last_scan_id))
    for first, last in session.execute(ends):
        keep.update(x for x in (first, last) if x is not None)
    return keep


def purge_observations(
    session: Session, *, before: datetime, actor: str, dry_run: bool = False
) -> Purge:
    if before > utcnow():
        raise ValueError("the cut-off is in the future")
    protected = _protected_scans(session)
    old = [
        scan_id
        for scan_id in session.execute(
            select(col(Scan.id)).where(col(Scan.finished_at) < before)
        ).scalars()
        if scan_id not in protected
    ]
    count = 0
    if old:
        count = session.execute(
            select(func.count()).select_from(Observation).where(col(Observation.scan_id).in_(old))
        ).scalar_one()
    if not dry_run and old:
        session.execute(delete(Observation).where(col(Observation.scan_id).in_(old)))
        session.add(
            AuditEvent(
                actor=actor,
                action="retention.purge",
                detail={"before": before.isoformat(), "scans": len(old), "observations": count},
            )
        )
    return Purge(before, len(old), count)
