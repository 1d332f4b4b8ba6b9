"""Running reconcile over the database and keeping each finding's history.

Each (org, identity) keeps one finding row. Its times come from the ok scans:

* ``first_seen_at``: the first ok scan of the current episode that showed it;
* ``last_seen_at``: the last ok scan that showed it;
* ``resolved_at``: the first ok scan after that which did not show it.

Every ok scan of an org that has not been applied yet is applied in order (the
org's watermark, ``org_reconcile``, says how far it got), so an access seen, gone
and back between two runs has exactly those times. The newest ok scan is applied
again on every run, because the roster, grants or identity decisions may have
changed since. Failed scans are never read here, so they can resolve nothing. The
first run over an org applies only its newest ok scan. Applying the same scan twice
changes nothing, and reconciling one org (``org_ids=[id]``) after its re-scan gives
the same findings as a full run.

Review state follows the findings (``agent.services.finding_changes``): a class
change or a return after resolution reopens; a resolution of a ``removal_requested``
finding by a later ok scan verifies the removal. Expired risk acceptances reopen at
the start of every run.

An ok scan with source ``extension`` (a passive capture) is applied by
``agent.services.capture_findings`` instead: it may raise findings and refresh what
it saw but never resolve or lower one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import ReviewState, ScanSource, ScanStatus
from agent.reconcile import Classification, PracticeIndex, classify_org
from agent.services.capture_findings import apply_capture, capture_view
from agent.services.finding_changes import (
    candidates_by_finding,
    mark_seen,
    new_finding,
    reopen,
    reopen_if_class_changed,
    store_candidates,
)
from agent.services.reconcile_inputs import (
    clients_of_orgs,
    facts_of,
    load_practice,
    practice_domains,
    seen_users_of,
)
from agent.services.review import SYSTEM, expire_accepted_risks, record_transition
from agent.storage.models import Finding, MatchCandidate, Org, OrgReconcile, Scan


@dataclass(slots=True)
class ReconcileSummary:
    orgs_reconciled: int = 0
    orgs_without_ok_scan: int = 0
    open_by_class: Counter[str] = field(default_factory=Counter)
    new: int = 0
    resolved: int = 0
    scans_applied: int = 0
    reopened: int = 0
    #: open findings a passive capture applied in this run did not show (left open)
    capture_missing: int = 0


def _scans_to_apply(session: Session, org_id: int) -> list[Scan]:
    """The org's ok scans not applied yet, oldest first; at least its newest ok scan."""
    return _scans_to_apply_many(session, [org_id]).get(org_id, [])


def _scans_to_apply_many(session: Session, org_ids: Sequence[int]) -> dict[int, list[Scan]]:
    """``_scans_to_apply`` of several orgs in three queries, whatever their number."""
    marks: dict[int, Scan] = {}
    for state, mark in session.exec(
        select(OrgReconcile, Scan)
        .join(Scan, col(Scan.id) == col(OrgReconcile.last_scan_id))
        .where(col(OrgReconcile.org_id).in_(list(org_ids)))
    ):
        marks[state.org_id] = mark
    found: dict[int, list[Scan]] = {}
    marked = list(marks)
    if marked:
        later = select(Scan).where(
            col(Scan.org_id).in_(marked),
            Scan.status == ScanStatus.OK,
            col(Scan.id) != col(OrgReconcile.last_scan_id),
        )
        mark_scan = aliased(Scan)
        for scan in session.exec(
            later.join(OrgReconcile, col(OrgReconcile.org_id) == col(Scan.org_id))
            .join(mark_scan, col(mark_scan.id) == col(OrgReconcile.last_scan_id))
            .where(
                or_(
                    col(Scan.finished_at) > mark_scan.finished_at,
                    and_(
                        col(Scan.finished_at) == mark_scan.finished_at, col(Scan.id) > mark_scan.id
                    ),
                )
            )
            .order_by(col(Scan.org_id), col(Scan.finished_at), col(Scan.id))
        ):
            found.setdefault(scan.org_id, []).append(scan)
        for org_id, mark in marks.items():
            found.setdefault(org_id, [mark])
    unmarked = [o for o in org_ids if o not in marks]
    if unmarked:
        for scan in session.exec(
            select(Scan)
            .where(col(Scan.org_id).in_(unmarked), Scan.status == ScanStatus.OK)
            .order_by(col(Scan.org_id), col(Scan.finished_at).desc(), col(Scan.id).desc())
        ):
            found.setdefault(scan.org_id, [scan])
    return found


def reconcile(
    session: Session,
    *,
    configured_domains: Sequence[str] = (),
    org_ids: Iterable[int] | None = None,
    today: date | None = None,
) -> ReconcileSummary:
    """Bring the findings of every org (or the given ones) up to their newest ok scan."""
    summary = ReconcileSummary()
    summary.reopened = expire_accepted_risks(session, today=today)
    domains = practice_domains(session, configured_domains)
    index = PracticeIndex.build(load_practice(session, domains, today=today))
    query = select(Org).order_by(col(Org.id))
    if org_ids is not None:
        query = query.where(col(Org.id).in_(list(org_ids)))
    orgs = session.exec(query).all()
    for start in range(0, len(orgs), _CHUNK):
        _reconcile_chunk(session, index, orgs[start : start + _CHUNK], summary)
    summary.open_by_class.update(
        session.exec(select(Finding.finding_class).where(col(Finding.resolved_at).is_(None)))
    )
    return summary


#: orgs whose inputs are read together (a few queries a chunk instead of a few an org)
_CHUNK = 500


def _reconcile_chunk(
    session: Session, index: PracticeIndex, orgs: Sequence[Org], summary: ReconcileSummary
) -> None:
    ids = [o.id for o in orgs if o.id is not None]
    to_apply = _scans_to_apply_many(session, ids)
    clients = clients_of_orgs(session, ids)
    agent_scans = [
        s.id
        for scans in to_apply.values()
        for s in scans
        if s.id is not None and s.source != ScanSource.EXTENSION
    ]
    users = seen_users_of(session, agent_scans)
    existing: dict[int, dict[str, Finding]] = {o: {} for o in ids}
    for finding in session.exec(select(Finding).where(col(Finding.org_id).in_(ids))):
        existing[finding.org_id][finding.identity] = finding
    candidates = candidates_by_finding(
        session, [f.id for found in existing.values() for f in found.values() if f.id]
    )
    # each org's watermark, read at once: an org reconciled for the first time has none
    states = {
        state.org_id: state
        for state in session.exec(select(OrgReconcile).where(col(OrgReconcile.org_id).in_(ids)))
    }
    for org in orgs:
        assert org.id is not None
        scans = to_apply.get(org.id, [])
        if not scans:
            summary.orgs_without_ok_scan += 1
            continue
        facts = facts_of(org, clients.get(org.id))
        # a capture writes findings of its own: after one, read the org's findings anew
        mine: dict[str, Finding] | None = existing[org.id]
        for scan in scans:
            assert scan.id is not None
            if scan.source == ScanSource.EXTENSION:
                view, shown = capture_view(session, index, facts, org.id, scan)
                new, missing = apply_capture(session, org, scan, view, shown)
                summary.capture_missing += missing
                mine = None
            else:
                results = classify_org(index, facts, users.get(scan.id, []))
                new, resolved = apply_scan(
                    session,
                    org,
                    scan,
                    results,
                    existing=mine,
                    candidates=candidates if mine is not None else None,
                )
                summary.resolved += resolved
            summary.new += new
            summary.scans_applied += 1
        _set_watermark(session, states.get(org.id) or OrgReconcile(org_id=org.id), scans[-1])
        summary.orgs_reconciled += 1


def _set_watermark(session: Session, state: OrgReconcile, scan: Scan) -> None:
    state.last_scan_id = scan.id
    state.reconciled_at = utcnow()
    session.add(state)


def apply_scan(
    session: Session,
    org: Org,
    scan: Scan,
    results: Sequence[Classification],
    *,
    existing: dict[str, Finding] | None = None,
    candidates: dict[int, dict[int, MatchCandidate]] | None = None,
) -> tuple[int, int]:
    """Bring the org's findings up to ``scan``; returns (new, resolved) counts.

    A finding last seen by a newer scan than ``scan`` is left alone, so applying an
    older scan by mistake cannot rewind history. ``existing`` (the org's findings by
    identity) and ``candidates`` may be given, read beforehand for many orgs at once;
    new findings are added to ``existing``.
    """
    if existing is None:
        existing = {
            f.identity: f for f in session.exec(select(Finding).where(Finding.org_id == org.id))
        }
    if candidates is None:
        candidates = candidates_by_finding(session, [f.id for f in existing.values() if f.id])
    new = resolved = 0
    current: set[str] = set()
    touched: list[tuple[Finding, Classification]] = []
    fresh: list[Finding] = []
    for result in results:
        current.add(result.identity)
        finding = existing.get(result.identity)
        if finding is not None and finding.last_seen_at > scan.finished_at:
            continue
        if finding is None:
            finding = new_finding(org, result, scan)  # made seen in this scan
            fresh.append(finding)
            new += 1
        else:
            if finding.resolved_at is not None:
                # Gone and back again: a new episode of the same access, reviewed anew.
                reopen(session, finding, scan, "the access is back after it was gone")
                new += 1
            else:
                reopen_if_class_changed(session, finding, result)
            mark_seen(finding, result, scan)
        session.add(finding)
        touched.append((finding, result))
    session.flush()  # new findings get their ids, for their candidates
    for finding, result in touched:
        store_candidates(session, finding, result, candidates.get(finding.id or 0, {}))
    for identity, finding in existing.items():
        if identity in current or finding.resolved_at is not None:
            continue
        if finding.last_seen_at > scan.finished_at:
            continue
        finding.resolved_at = scan.finished_at
        finding.capture_missing_at = None  # the agent scan has settled what the capture left
        if (
            finding.review_state == ReviewState.REMOVAL_REQUESTED
            and finding.last_scan_id != scan.id
        ):
            record_transition(
                session,
                finding,
                ReviewState.VERIFIED_REMOVED,
                actor=SYSTEM,
                reason=f"not in the ok scan #{scan.id} of the org",
            )
        session.add(finding)
        resolved += 1
    session.flush()
    for finding in fresh:
        existing[finding.identity] = finding
    return new, resolved
