"""Applying a passive capture to the findings: raise and refresh, never resolve.

A passive capture (an ok scan with source ``extension``: a user list a person's
browser read off a portal page, DESIGN.md "Acting on findings") is evidence of
what a page showed, sent by whoever holds a token, so it may raise findings and
refresh what it saw but never resolve or lower one: only an ok agent scan does.
A capture is applied as ``capture_view``: the org's latest ok agent scan raised by
the captures since, gravest class per identity, classified afresh on every run
(so a roster change still counts). An open finding a capture did not show stays
open with ``capture_missing_at`` set, awaiting the agent scan the capture queues;
the next ok agent scan of the org clears it, and resolves the finding if the
access is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from agent.domain import FindingClass, ScanSource, ScanStatus
from agent.reconcile import Classification, OrgFacts, PracticeIndex, classify_org
from agent.services.finding_changes import (
    candidates_by_finding,
    classify_into,
    mark_seen,
    new_finding,
    reopen,
    reopen_if_class_changed,
    store_candidates,
)
from agent.services.reconcile_inputs import seen_users
from agent.storage.models import Finding, Org, Scan


def capture_missing_note(finding: Finding) -> str | None:
    """What a person is told of an open finding a passive capture did not show, or ``None``."""
    at = finding.capture_missing_at
    if at is None or finding.resolved_at is not None:
        return None
    return f"not seen in a capture on {at:%Y-%m-%d}, awaiting a scan"


_CLASS_RANK = {c.value: i for i, c in enumerate(FindingClass)}
"""Precedence order (DESIGN.md's table): a lower number is the graver class."""


def _lowers(old: str, new: str) -> bool:
    """Whether moving a finding from class ``old`` to ``new`` would make it less grave."""
    return _CLASS_RANK.get(new, 99) > _CLASS_RANK.get(old, 99)


def _before_or_at(scan: Scan) -> Any:
    return or_(
        col(Scan.finished_at) < scan.finished_at,
        and_(col(Scan.finished_at) == scan.finished_at, col(Scan.id) <= scan.id),
    )


def capture_view(
    session: Session, index: PracticeIndex, facts: OrgFacts, org_id: int, scan: Scan
) -> tuple[list[Classification], set[str]]:
    """What the org's findings may be once the capture ``scan`` is applied, and whom it showed.

    The view is the org's latest ok agent scan up to ``scan``, classified against
    today's roster, grants and decisions, raised by every ok capture since that scan
    (``scan`` included): per identity the gravest class wins, and a capture's
    class replaces an equal one (a refresh of what it saw). A capture's
    ``missing_expected`` is left out: it claims an absence, which only an agent
    scan may. Built afresh on every run, it follows a roster change like an agent
    scan would, yet no capture can make any identity less grave than it would be
    without that capture.
    """
    agent = session.exec(
        select(Scan)
        .where(
            Scan.org_id == org_id,
            Scan.status == ScanStatus.OK,
            Scan.source != ScanSource.EXTENSION,
            _before_or_at(scan),
        )
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
    ).first()
    view: dict[str, Classification] = {}
    if agent is not None:
        assert agent.id is not None
        view = {r.identity: r for r in classify_org(index, facts, seen_users(session, agent.id))}
    since = select(Scan).where(
        Scan.org_id == org_id,
        Scan.status == ScanStatus.OK,
        Scan.source == ScanSource.EXTENSION,
        _before_or_at(scan),
    )
    if agent is not None:
        since = since.where(
            or_(
                col(Scan.finished_at) > agent.finished_at,
                and_(col(Scan.finished_at) == agent.finished_at, col(Scan.id) > agent.id),
            )
        )
    shown: set[str] = set()
    for capture in session.exec(since.order_by(col(Scan.finished_at), col(Scan.id))).all():
        assert capture.id is not None
        for result in classify_org(index, facts, seen_users(session, capture.id)):
            if result.finding_class is FindingClass.MISSING_EXPECTED:
                continue
            if capture.id == scan.id:
                shown.add(result.identity)
            held = view.get(result.identity)
            if held is None or not _lowers(held.finding_class, result.finding_class):
                view[result.identity] = result
    return list(view.values()), shown


def apply_capture(
    session: Session,
    org: Org,
    scan: Scan,
    results: Sequence[Classification],
    shown: set[str],
) -> tuple[int, int]:
    """Apply a passive capture: raise and refresh, never resolve.

    ``results`` is ``capture_view``'s view of the org and ``shown`` the identities
    the capture itself showed. Returns (new, not shown): findings opened or
    reopened, and open findings the capture did not show. Those stay open with
    ``capture_missing_at`` set to the capture's time (their class follows the view,
    their times do not move); only an ok agent scan may resolve them.
    ``missing_expected`` findings are not marked: they already say the access was
    not seen.
    """
    existing = {
        f.identity: f for f in session.exec(select(Finding).where(Finding.org_id == org.id))
    }
    candidates = candidates_by_finding(session, [f.id for f in existing.values() if f.id])
    new = missing = 0
    touched: list[tuple[Finding, Classification]] = []
    for result in results:
        finding = existing.get(result.identity)
        if finding is not None and finding.last_seen_at > scan.finished_at:
            continue
        seen = result.identity in shown
        if finding is None:
            if not seen:
                continue  # nothing to raise from a scan older than this capture
            finding = new_finding(org, result, scan)
            new += 1
        elif finding.resolved_at is not None:
            if not seen:
                continue
            # Back after an agent scan saw it gone: raising it again is the capture's to do.
            reopen(
                session,
                finding,
                scan,
                f"the access is back after it was gone (extension capture, scan #{scan.id})",
            )
            new += 1
        else:
            reopen_if_class_changed(session, finding, result)
        if seen:
            mark_seen(finding, result, scan)
        else:
            classify_into(finding, result)
        session.add(finding)
        touched.append((finding, result))
    session.flush()
    for finding, result in touched:
        store_candidates(session, finding, result, candidates.get(finding.id or 0, {}))
    for identity, finding in existing.items():
        if identity in shown or finding.resolved_at is not None:
            continue
        if (
            finding.finding_class == FindingClass.MISSING_EXPECTED
            or finding.last_seen_at > scan.finished_at
        ):
            continue
        if finding.capture_missing_at is None or finding.capture_missing_at < scan.finished_at:
            finding.capture_missing_at = scan.finished_at
            session.add(finding)
        missing += 1
    session.flush()
    return new, missing
