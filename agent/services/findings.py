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

Review state follows the findings (``agent.services.review``): a class change or a return
after resolution reopens; a resolution of a ``removal_requested`` finding by a
later ok scan verifies the removal. Expired risk acceptances reopen at the start
of every run.

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

``stale_orgs`` names the orgs whose newest ok scan is older than the
``stale_after_hours`` setting: what the findings say of them is "as of" then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import (
    AccessStatus,
    FindingClass,
    Portal,
    ReviewState,
    ScanSource,
    ScanStatus,
    StaffStatus,
)
from agent.reconcile import (
    Classification,
    Grant,
    OrgFacts,
    Practice,
    PracticeIndex,
    SeenUser,
    StaffMember,
    classify_org,
)
from agent.reconcile.identity import email_domain
from agent.services.identities import load_decisions
from agent.services.review import SYSTEM, expire_accepted_risks, record_transition
from agent.services.scans import latest_ok_scan
from agent.storage.models import (
    Client,
    ClientOrgLink,
    Finding,
    IntendedAccess,
    MatchCandidate,
    Observation,
    Org,
    OrgReconcile,
    PortalLogin,
    Scan,
    Staff,
    StaffEmail,
)


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


def practice_domains(session: Session, configured: Sequence[str]) -> frozenset[str]:
    """The configured practice domains, else the domain most staff primary emails share."""
    if configured:
        return frozenset(d.casefold() for d in configured)
    domains = Counter(
        email_domain(e) for e in session.exec(select(StaffEmail.email).where(StaffEmail.is_primary))
    )
    if not domains:
        return frozenset()
    top, _ = domains.most_common(1)[0]
    return frozenset({top})


def load_practice(session: Session, domains: frozenset[str]) -> Practice:
    """The roster, grants, agent logins and identity decisions, as reconcile's plain data."""
    emails: dict[int, list[str]] = {}
    for row in session.exec(
        select(StaffEmail).order_by(col(StaffEmail.is_primary).desc(), col(StaffEmail.id))
    ):
        emails.setdefault(row.staff_id, []).append(row.email)
    staff = tuple(
        StaffMember(
            id=s.id,
            name=s.name,
            status=StaffStatus(s.status),
            emails=tuple(emails.get(s.id, ())),
            left_on=s.left_on,
        )
        for s in session.exec(select(Staff).order_by(col(Staff.id)))
        if s.id is not None
    )
    grants = tuple(
        Grant(
            staff_id=g.staff_id,
            portal=Portal(g.portal),
            portal_org_id=g.portal_org_id,
            role=g.role,
            extra_permissions=tuple(g.extra_permissions or ()),
        )
        for g in session.exec(select(IntendedAccess))
    )
    agents = frozenset(session.exec(select(PortalLogin.email)))
    return Practice(
        domains=domains,
        staff=staff,
        agent_emails=agents,
        grants=grants,
        decisions=load_decisions(session),
    )


def client_of(session: Session, org: Org) -> Client | None:
    """The practice's client an org is linked to, if any."""
    return session.exec(
        select(Client)
        .join(ClientOrgLink, col(ClientOrgLink.client_id) == col(Client.id))
        .where(ClientOrgLink.portal == org.portal, ClientOrgLink.portal_org_id == org.portal_org_id)
    ).first()


def org_facts(session: Session, org: Org, client: Client | None = None) -> OrgFacts:
    client = client or client_of(session, org)
    return OrgFacts(
        portal=Portal(org.portal),
        portal_org_id=org.portal_org_id,
        name=org.name,
        client_name=client.name if client else None,
        client_archived=bool(client and client.archived),
    )


def seen_users(session: Session, scan_id: int) -> list[SeenUser]:
    return [
        SeenUser(
            email=o.email,
            name=o.name,
            role=o.role,
            status=AccessStatus(o.status),
            extra_permissions=tuple(o.extra_permissions or ()),
            kind=o.kind,
        )
        for o in session.exec(
            select(Observation).where(Observation.scan_id == scan_id).order_by(col(Observation.id))
        )
    ]


def _scans_to_apply(session: Session, org_id: int) -> list[Scan]:
    """The org's ok scans not applied yet, oldest first; at least its newest ok scan."""
    state = session.get(OrgReconcile, org_id)
    mark = session.get(Scan, state.last_scan_id) if state and state.last_scan_id else None
    if mark is None:
        newest = latest_ok_scan(session, org_id)
        return [newest] if newest else []
    later = list(
        session.exec(
            select(Scan)
            .where(
                Scan.org_id == org_id,
                Scan.status == ScanStatus.OK,
                or_(
                    col(Scan.finished_at) > mark.finished_at,
                    and_(col(Scan.finished_at) == mark.finished_at, col(Scan.id) > mark.id),
                ),
            )
            .order_by(col(Scan.finished_at), col(Scan.id))
        )
    )
    return later or [mark]


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
    index = PracticeIndex.build(load_practice(session, domains))
    query = select(Org).order_by(col(Org.id))
    if org_ids is not None:
        query = query.where(col(Org.id).in_(list(org_ids)))
    for org in session.exec(query).all():
        assert org.id is not None
        scans = _scans_to_apply(session, org.id)
        if not scans:
            summary.orgs_without_ok_scan += 1
            continue
        facts = org_facts(session, org)
        for scan in scans:
            assert scan.id is not None
            if scan.source == ScanSource.EXTENSION:
                view, shown = capture_view(session, index, facts, org.id, scan)
                new, missing = apply_capture(session, org, scan, view, shown)
                summary.capture_missing += missing
            else:
                results = classify_org(index, facts, seen_users(session, scan.id))
                new, resolved = apply_scan(session, org, scan, results)
                summary.resolved += resolved
            summary.new += new
            summary.scans_applied += 1
        _set_watermark(session, org.id, scans[-1])
        summary.orgs_reconciled += 1
    summary.open_by_class.update(
        session.exec(select(Finding.finding_class).where(col(Finding.resolved_at).is_(None)))
    )
    return summary


def _set_watermark(session: Session, org_id: int, scan: Scan) -> None:
    state = session.get(OrgReconcile, org_id) or OrgReconcile(org_id=org_id)
    state.last_scan_id = scan.id
    state.reconciled_at = utcnow()
    session.add(state)


def apply_scan(
    session: Session, org: Org, scan: Scan, results: Sequence[Classification]
) -> tuple[int, int]:
    """Bring the org's findings up to ``scan``; returns (new, resolved) counts.

    A finding last seen by a newer scan than ``scan`` is left alone, so applying an
    older scan by mistake cannot rewind history.
    """
    existing = {
        f.identity: f for f in session.exec(select(Finding).where(Finding.org_id == org.id))
    }
    candidates = _candidates_by_finding(session, [f.id for f in existing.values() if f.id])
    new = resolved = 0
    current: set[str] = set()
    touched: list[tuple[Finding, Classification]] = []
    for result in results:
        current.add(result.identity)
        finding = existing.get(result.identity)
        if finding is not None and finding.last_seen_at > scan.finished_at:
            continue
        if finding is None:
            finding = _new_finding(org, result, scan)
            new += 1
        elif finding.resolved_at is not None:
            # Gone and back again: a new episode of the same access, to be reviewed anew.
            _reopen(session, finding, scan, "the access is back after it was gone")
            new += 1
        else:
            _reopen_if_class_changed(session, finding, result)
        _update(finding, result, scan)
        session.add(finding)
        touched.append((finding, result))
    session.flush()  # new findings get their ids, for their candidates
    for finding, result in touched:
        _store_candidates(session, finding, result, candidates.get(finding.id or 0, {}))
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
    return new, resolved


def _update(finding: Finding, result: Classification, scan: Scan) -> None:
    _classify_into(finding, result)
    finding.last_seen_at = scan.finished_at
    finding.last_scan_id = scan.id
    finding.capture_missing_at = None  # seen again: nothing is awaited any more


def _classify_into(finding: Finding, result: Classification) -> None:
    """Copy a classification onto a finding, leaving its times alone."""
    finding.finding_class = result.finding_class
    finding.severity = result.finding_class.severity
    finding.staff_id = result.staff_id
    finding.email = result.email
    finding.name = result.name
    finding.role = result.role
    finding.extra_permissions = list(result.extra_permissions)
    finding.access_status = result.access_status
    finding.intended_role = result.intended_role
    finding.removable_by = result.removable_by
    finding.detail = result.detail[:2000]


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
    candidates = _candidates_by_finding(session, [f.id for f in existing.values() if f.id])
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
            finding = _new_finding(org, result, scan)
            new += 1
        elif finding.resolved_at is not None:
            if not seen:
                continue
            # Back after an agent scan saw it gone: raising it again is the capture's to do.
            _reopen(
                session,
                finding,
                scan,
                f"the access is back after it was gone (extension capture, scan #{scan.id})",
            )
            new += 1
        else:
            _reopen_if_class_changed(session, finding, result)
        if seen:
            _update(finding, result, scan)
        else:
            _classify_into(finding, result)
        session.add(finding)
        touched.append((finding, result))
    session.flush()
    for finding, result in touched:
        _store_candidates(session, finding, result, candidates.get(finding.id or 0, {}))
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


def _candidates_by_finding(
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


def _store_candidates(
    session: Session,
    finding: Finding,
    result: Classification,
    stored: dict[int, MatchCandidate],
) -> None:
    """Keep the finding's candidate rows equal to the classification's, touching only changes."""
    assert finding.id is not None
    wanted = {c.staff_id: c for c in result.candidates}
    for staff_id, row in stored.items():
        if staff_id not in wanted:
            session.delete(row)
    for staff_id, candidate in wanted.items():
        row = stored.get(staff_id)
        if row is None:
            session.add(
                MatchCandidate(
                    finding_id=finding.id,
                    staff_id=staff_id,
                    staff_name=candidate.name[:200],
                    score=candidate.score,
                )
            )
        elif row.score != candidate.score or row.staff_name != candidate.name[:200]:
            row.score, row.staff_name = candidate.score, candidate.name[:200]
            session.add(row)


@dataclass(frozen=True, slots=True)
class StaleOrg:
    """An org whose findings are old news: its newest ok scan is older than the setting.

    ``stale_since`` is the time of that newest ok scan (the moment the findings are
    "as of"), or when the org was first listed if it never had one.
    """

    org_id: int
    portal: str
    portal_org_id: str
    name: str
    stale_since: datetime
    last_ok_scan_at: datetime | None


def stale_since(
    session: Session, org_id: int, *, stale_after_hours: int, now: datetime | None = None
) -> datetime | None:
    """When the org's findings went unrefreshed from, if it is stale; ``None`` if fresh."""
    org = session.get(Org, org_id)
    if org is None:
        return None
    scan = latest_ok_scan(session, org_id)
    since = scan.finished_at if scan else org.first_seen_at
    if (now or utcnow()) - since > timedelta(hours=stale_after_hours):
        return since
    return None


def stale_orgs(
    session: Session, *, stale_after_hours: int, now: datetime | None = None
) -> list[StaleOrg]:
    """Every stale org, longest stale first."""
    stale: list[StaleOrg] = []
    for org in session.exec(select(Org)):
        assert org.id is not None
        scan = latest_ok_scan(session, org.id)
        since = stale_since(session, org.id, stale_after_hours=stale_after_hours, now=now)
        if since is not None:
            stale.append(
                StaleOrg(
                    org.id,
                    org.portal,
                    org.portal_org_id,
                    org.name,
                    since,
                    scan.finished_at if scan else None,
                )
            )
    stale.sort(key=lambda s: (s.stale_since, s.portal, s.portal_org_id))
    return stale


PROBLEM_CLASSES = tuple(c for c in FindingClass if c.is_problem)


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A finding with the org and client it is about: what lists and exports show."""

    portal: str
    portal_org_id: str
    org_name: str
    client: str | None
    client_manager: str | None
    email: str
    name: str
    finding_class: str
    severity: str
    role: str
    access_status: str
    removable_by: str
    review_state: str
    first_seen_at: object
    last_seen_at: object
    detail: str


def open_findings(
    session: Session,
    *,
    classes: Sequence[str] = (),
    portal: str | None = None,
    problems_only: bool = False,
) -> list[FindingRow]:
    query = (
        select(Finding, Org, Client)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .join(
            ClientOrgLink,
            (col(ClientOrgLink.portal) == col(Org.portal))
            & (col(ClientOrgLink.portal_org_id) == col(Org.portal_org_id)),
            isouter=True,
        )
        .join(Client, col(Client.id) == col(ClientOrgLink.client_id), isouter=True)
        .where(col(Finding.resolved_at).is_(None))
    )
    if classes:
        query = query.where(col(Finding.finding_class).in_(list(classes)))
    elif problems_only:
        query = query.where(col(Finding.finding_class).in_([c.value for c in PROBLEM_CLASSES]))
    if portal:
        query = query.where(Org.portal == portal)
    rows = [
        FindingRow(
            portal=org.portal,
            portal_org_id=org.portal_org_id,
            org_name=org.name,
            client=client.name if client else None,
            client_manager=client.client_manager if client else None,
            email=f.email,
            name=f.name,
            finding_class=f.finding_class,
            severity=f.severity,
            role=f.role,
            access_status=f.access_status,
            removable_by=f.removable_by,
            review_state=f.review_state,
            first_seen_at=f.first_seen_at,
            last_seen_at=f.last_seen_at,
            detail=f.detail,
        )
        for f, org, client in session.exec(query)
    ]
    order = {c.value: i for i, c in enumerate(FindingClass)}
    rows.sort(key=lambda r: (order.get(r.finding_class, 99), r.portal, r.org_name, r.email))
    return rows


def _new_finding(org: Org, result: Classification, scan: Scan) -> Finding:
    """The finding ``scan`` raises for ``result``: first and last seen in that scan."""
    return Finding(
        org_id=org.id,
        identity=result.identity,
        finding_class=result.finding_class,
        severity=result.finding_class.severity,
        first_seen_at=scan.finished_at,
        last_seen_at=scan.finished_at,
        first_scan_id=scan.id,
        last_scan_id=scan.id,
    )


def _reopen(session: Session, finding: Finding, scan: Scan, reason: str) -> None:
    """A resolved finding seen again: a new episode, first seen in ``scan``, reviewed anew."""
    finding.resolved_at = None
    finding.first_seen_at = scan.finished_at
    finding.first_scan_id = scan.id
    if finding.review_state != ReviewState.OPEN:
        record_transition(session, finding, ReviewState.OPEN, actor=SYSTEM, reason=reason)


def _reopen_if_class_changed(session: Session, finding: Finding, result: Classification) -> None:
    """A reviewed finding whose class changed is open for review again."""
    if finding.finding_class != result.finding_class and finding.review_state != ReviewState.OPEN:
        record_transition(
            session,
            finding,
            ReviewState.OPEN,
            actor=SYSTEM,
            reason=f"class changed from {finding.finding_class} to {result.finding_class}",
        )
