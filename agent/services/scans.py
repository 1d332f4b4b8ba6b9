"""Recording scans: one org's capture, ok or failed, written whole or not at all.

A scan and its observations are one transaction, so a crawl killed at any instant
leaves either the finished scan or nothing. Scans are append-only evidence; the
crawler and passive capture from the extension both record through here, under the
same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from agent.capture import OrgRef, OrgUsers
from agent.clock import utcnow
from agent.domain import FailureReason, Portal, ScanSource, ScanStatus
from agent.storage.models import Observation, Org, Scan
from agent.storage.widths import fit, width

_INSERT_SCAN = Scan.__table__.insert()  # type: ignore[attr-defined]
_INSERT_OBSERVATION = Observation.__table__.insert()  # type: ignore[attr-defined]
#: a portal's id for a user is kept whole or not at all: cut short, it names no one
_USER_ID_WIDTH = width(Observation.portal_user_id)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    scan_id: int
    org_id: int
    status: ScanStatus
    reason: FailureReason | None
    user_count: int


def upsert_org(session: Session, ref: OrgRef, *, login_id: int | None) -> Org:
    """The org row for a listed org, created on first sight, renamed when the portal renames it."""
    return _upsert_chunk(session, [ref], login_id=login_id, now=utcnow())[0]


def upsert_org_ids(
    session: Session, refs: Sequence[OrgRef], *, login_id: int | None, chunk: int = 500
) -> list[int]:
    """``upsert_org`` for a whole org list; returns the rows' ids, in the list's order.

    The list is written a chunk at a time, reading each chunk's known orgs in one
    query, and only ids are kept: a 10,000-org practice never holds 10,000 row
    objects at once.
    """
    now = utcnow()
    ids: list[int] = []
    for start in range(0, len(refs), chunk):
        for org in _upsert_chunk(session, refs[start : start + chunk], login_id=login_id, now=now):
            assert org.id is not None
            ids.append(org.id)
    return ids


def _upsert_chunk(
    session: Session, refs: Sequence[OrgRef], *, login_id: int | None, now: datetime
) -> list[Org]:
    by_portal: dict[str, set[str]] = {}
    for ref in refs:
        by_portal.setdefault(str(ref.portal), set()).add(ref.portal_org_id)
    known: dict[tuple[str, str], Org] = {}
    for portal, ids in by_portal.items():
        query = select(Org).where(Org.portal == portal, col(Org.portal_org_id).in_(ids))
        known.update(((org.portal, org.portal_org_id), org) for org in session.exec(query))
    rows: list[Org] = []
    for ref in refs:
        org = known.get((ref.portal, ref.portal_org_id))
        if org is None:
            org = Org(
                portal=ref.portal,
                portal_org_id=ref.portal_org_id,
                name=ref.name,
                login_id=login_id,
                viewer_role=ref.viewer_role,
                first_seen_at=now,
            )
            known[(ref.portal, ref.portal_org_id)] = org
        else:
            org.name = ref.name or org.name
            org.login_id = login_id if login_id is not None else org.login_id
            org.viewer_role = ref.viewer_role or org.viewer_role
        org.last_listed_at = now
        session.add(org)
        rows.append(org)
    session.flush()
    return rows


def record_capture(
    session: Session,
    *,
    org_id: int,
    result: OrgUsers,
    started_at: datetime,
    crawl_id: int | None = None,
    login_id: int | None = None,
    source: ScanSource = ScanSource.AGENT,
) -> ScanOutcome:
    """Record a complete user list: ok, or suspect when it is a sudden drop to no one.

    A list holding at most the viewer, where the last ok scan showed others, is more
    likely a portal fault than every user removed at once: it is kept as a
    ``suspect`` scan and not applied. A second such list in a row confirms it. An
    agent scan is confirmed only by the agent's own previous scan: a passive capture
    (anyone with a token can post one) must not make an agent scan's drop count.
    """
    status = ScanStatus.OK
    detail = ""
    if len(result.users) <= 1:
        last_ok = latest_ok_scan(session, org_id)
        before = select(Scan).where(Scan.org_id == org_id)
        if source == ScanSource.AGENT:
            before = before.where(Scan.source == ScanSource.AGENT)
        previous = session.exec(
            before.order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
        ).first()
        confirmed = previous is not None and previous.status == ScanStatus.SUSPECT
        if last_ok is not None and last_ok.user_count > 1 and not confirmed:
            status = ScanStatus.SUSPECT
            detail = (
                f"the list dropped from {last_ok.user_count} users to "
                f"{len(result.users)}; held until a second scan shows the same"
            )
    return record_ok_scan(
        session,
        org_id=org_id,
        result=result,
        started_at=started_at,
        crawl_id=crawl_id,
        login_id=login_id,
        source=source,
        status=status,
        detail=detail,
    )


def record_ok_scan(
    session: Session,
    *,
    org_id: int,
    result: OrgUsers,
    started_at: datetime,
    crawl_id: int | None = None,
    login_id: int | None = None,
    source: ScanSource = ScanSource.AGENT,
    status: ScanStatus = ScanStatus.OK,
    detail: str = "",
) -> ScanOutcome:
    scan_id = _insert_scan(
        session,
        crawl_id=crawl_id,
        org_id=org_id,
        login_id=login_id,
        source=source,
        status=status,
        reported_total=result.reported_total,
        user_count=len(result.users),
        evidence=fit(result.evidence, Scan.evidence),
        recipe=result.recipe,
        detail=detail,
        started_at=started_at,
        finished_at=utcnow(),
    )
    if result.users:
        session.connection().execute(
            _INSERT_OBSERVATION,
            [
                {
                    "scan_id": scan_id,
                    "email": user.email.strip(),
                    "name": user.name,
                    "role": user.role,
                    "extra_permissions": list(user.extra_permissions),
                    "status": user.status.value,
                    "kind": user.kind,
                    "last_login": user.last_login,
                    "portal_user_id": (
                        user.portal_user_id
                        if len(user.portal_user_id or "") <= _USER_ID_WIDTH
                        else None
                    ),
                    "subscriber": user.subscriber,
                    "firm": None if user.firm is None else fit(user.firm, Observation.firm),
                    "added_by_owner": user.added_by_owner,
                }
                for user in result.users
            ],
        )
    return ScanOutcome(scan_id, org_id, status, None, len(result.users))


def record_failed_scan(
    session: Session,
    *,
    org_id: int,
    reason: FailureReason,
    detail: str,
    started_at: datetime,
    crawl_id: int | None = None,
    login_id: int | None = None,
    source: ScanSource = ScanSource.AGENT,
    recipe: str | None = None,
) -> ScanOutcome:
    scan_id = _insert_scan(
        session,
        crawl_id=crawl_id,
        org_id=org_id,
        login_id=login_id,
        source=source,
        status=ScanStatus.FAILED,
        reason=reason,
        recipe=recipe,
        detail=fit(detail, Scan.detail),
        started_at=started_at,
        finished_at=utcnow(),
    )
    return ScanOutcome(scan_id, org_id, ScanStatus.FAILED, reason, 0)


def _insert_scan(session: Session, **values: object) -> int:
    """Insert a scan row and return its id.

    Scans and observations are append-only rows that nothing reads back as objects,
    so they are written as plain inserts on the session's connection (its
    transaction): an ORM object and its flush cost more than the rest of recording
    a scan.
    """
    result = session.connection().execute(_INSERT_SCAN, values)
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def latest_ok_scan(session: Session, org_id: int) -> Scan | None:
    return session.exec(
        select(Scan)
        .where(Scan.org_id == org_id, Scan.status == ScanStatus.OK)
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
    ).first()


def find_org(session: Session, portal: Portal | str, portal_org_id: str) -> Org | None:
    return session.exec(
        select(Org).where(Org.portal == str(portal), Org.portal_org_id == portal_org_id)
    ).first()
