"""Changes to one finding row: raised, seen again, reclassified, reopened.

Shared by the two ways a scan reaches the findings (``agent.services.findings`` for
an agent scan, ``agent.services.capture_findings`` for a passive capture), so both
keep times, review state and match candidates the same way: a class change or a
return after resolution reopens a reviewed finding, recorded as a transition by
the system.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from agent.domain import ReviewState
from agent.reconcile import Classification
from agent.services.review import SYSTEM, record_transition
from agent.storage.models import Finding, MatchCandidate, Org, Scan
from agent.storage.widths import fit


def new_finding(org: Org, result: Classification, scan: Scan) -> Finding:
    """The finding ``scan`` raises for ``result``: first and last seen in that scan, and
    classified as ``mark_seen`` would (made whole at once: a first crawl makes one per
    user it reads, and each attribute set on a row object costs)."""
    assert org.id is not None
    return Finding(
        org_id=org.id,
        identity=result.identity,
        first_seen_at=scan.finished_at,
        last_seen_at=scan.finished_at,
        first_scan_id=scan.id,
        last_scan_id=scan.id,
        **_classified(result),
    )


def reopen(session: Session, finding: Finding, scan: Scan, reason: str) -> None:
    """A resolved finding seen again: a new episode, first seen in ``scan``, reviewed anew."""
    finding.resolved_at = None
    finding.first_seen_at = scan.finished_at
    finding.first_scan_id = scan.id
    if finding.review_state != ReviewState.OPEN:
        record_transition(session, finding, ReviewState.OPEN, actor=SYSTEM, reason=reason)


def reopen_if_class_changed(session: Session, finding: Finding, result: Classification) -> None:
    """A reviewed finding whose class changed is open for review again."""
    if finding.finding_class != result.finding_class and finding.review_state != ReviewState.OPEN:
        record_transition(
            session,
            finding,
            ReviewState.OPEN,
            actor=SYSTEM,
            reason=f"class changed from {finding.finding_class} to {result.finding_class}",
        )


def mark_seen(finding: Finding, result: Classification, scan: Scan) -> None:
    classify_into(finding, result)
    finding.last_seen_at = scan.finished_at
    finding.last_scan_id = scan.id
    finding.capture_missing_at = None  # seen again: nothing is awaited any more


def classify_into(finding: Finding, result: Classification) -> None:
    """Copy a classification onto a finding, leaving its times alone."""
    for name, value in _classified(result).items():
        setattr(finding, name, value)


def _classified(result: Classification) -> dict[str, Any]:
    """A finding's fields that its classification decides."""
    return {
        "finding_class": result.finding_class,
        "severity": result.finding_class.severity,
        "staff_id": result.staff_id,
        "email": result.email,
        "name": result.name,
        "role": result.role,
        "extra_permissions": list(result.extra_permissions),
        "access_status": result.access_status,
        "intended_role": result.intended_role,
        "removable_by": result.removable_by,
        "removable_reason": fit(result.removable_reason, Finding.removable_reason),
        "detail": fit(result.detail, Finding.detail),
    }


def candidates_by_finding(
    session: Session, finding_ids: list[int]
) -> dict[int, dict[int, MatchCandidate]]:
    found: dict[int, dict[int, MatchCandidate]] = {}
    if not finding_ids:
        return found
    for row in session.exec(
        select(MatchCandidate).where(col(MatchCandidate.finding_id).in_(finding_ids))
    ):
        found.setdefault(row.finding_id, {})[row.staff_id] = row
    return found


def store_candidates(
    session: Session,
    finding: Finding,
    result: Classification,
    stored: dict[int, MatchCandidate],
) -> None:
    """Keep the finding's candidate rows equal to the classification's, touching only changes."""
    assert finding.id is not None
    wanted = {c.staff_id: c for c in result.candidates}
    for staff_id, gone in stored.items():
        if staff_id not in wanted:
            session.delete(gone)
    for staff_id, candidate in wanted.items():
        row = stored.get(staff_id)
        name = fit(candidate.name, MatchCandidate.staff_name)
        if row is None:
            session.add(
                MatchCandidate(
                    finding_id=finding.id, staff_id=staff_id, staff_name=name, score=candidate.score
                )
            )
        elif row.score != candidate.score or row.staff_name != name:
            row.score, row.staff_name = candidate.score, name
            session.add(row)
