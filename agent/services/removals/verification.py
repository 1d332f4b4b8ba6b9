"""Verified removed: only an ok agent scan that no longer shows the access says so.

Runs after every settle (a crawl, a removal run's re-read), for the orgs settled:
an item the portal said it removed, one the client was asked to remove, or one
still waiting, whose user the org's latest ok agent scan no longer lists becomes
``verified``; a client request is marked seen removed by that scan. Passive
captures from the extension never verify anything (they are not agent scans).

An item the portal said it removed that the same or a later scan still lists is
``failed`` with that finding: the portal's word is not evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import RemovalState
from agent.reconcile.identity import normalise_with
from agent.security.audit import record
from agent.services.removals.plans import latest_ok_scans
from agent.storage.models import ClientRequest, Observation, RemovalItem, Scan
from agent.storage.widths import fit

__all__ = ["Verified", "shown_identities", "verify_removals"]

ACTOR = "system"

#: item states a scan can settle
_WAITING = (RemovalState.REMOVED, RemovalState.REQUESTED)


@dataclass(slots=True)
class Verified:
    items: list[int] = field(default_factory=list)
    client_requests: list[int] = field(default_factory=list)
    still_listed: list[int] = field(default_factory=list)


def verify_removals(session: Session, *, org_ids: Iterable[int] | None = None) -> Verified:
    """Settle waiting items and open client requests of ``org_ids`` (every org: None).

    A handful of queries whatever the number of orgs: a run's settle verifies a
    hundred orgs at once.
    """
    result = Verified()
    wanted = None if org_ids is None else set(org_ids)
    orgs = _orgs_waiting(session, wanted)
    if not orgs:
        return result
    latest = latest_ok_scans(session, orgs)
    present = shown_identities(session, [s.id for s in latest.values() if s.id is not None])
    items: dict[int, list[RemovalItem]] = defaultdict(list)
    for item in session.exec(
        select(RemovalItem)
        .where(
            col(RemovalItem.org_id).in_(list(latest)), col(RemovalItem.state).in_(list(_WAITING))
        )
        .order_by(col(RemovalItem.id))
    ):
        items[item.org_id].append(item)
    requests: dict[int, list[ClientRequest]] = defaultdict(list)
    for request in session.exec(
        select(ClientRequest)
        .where(
            col(ClientRequest.org_id).in_(list(latest)),
            col(ClientRequest.seen_removed_at).is_(None),
        )
        .order_by(col(ClientRequest.id))
    ):
        requests[request.org_id].append(request)
    for org_id in sorted(latest):
        scan = latest[org_id]
        shown = present.get(scan.id or 0, set())
        _settle_items(session, org_id, scan, shown, items[org_id], result)
        _settle_requests(session, org_id, scan, shown, requests[org_id], result)
    return result


def _orgs_waiting(session: Session, wanted: set[int] | None) -> set[int]:
    items = select(RemovalItem.org_id).where(col(RemovalItem.state).in_(list(_WAITING)))
    requests = select(ClientRequest.org_id).where(col(ClientRequest.seen_removed_at).is_(None))
    if wanted is not None:
        items = items.where(col(RemovalItem.org_id).in_(list(wanted)))
        requests = requests.where(col(ClientRequest.org_id).in_(list(wanted)))
    return set(session.exec(items)) | set(session.exec(requests))


def shown_identities(session: Session, scan_ids: list[int]) -> dict[int, set[str]]:
    """Who each scan shows with access (declined and inactive rows are not access)."""
    shown: dict[int, set[str]] = defaultdict(set)
    for scan_id, email, status in session.exec(
        select(Observation.scan_id, Observation.email, Observation.status).where(
            col(Observation.scan_id).in_(scan_ids)
        )
    ):
        if status in ("active", "pending"):
            shown[scan_id].add(normalise_with(email))
    return shown


def _settle_items(
    session: Session,
    org_id: int,
    scan: Scan,
    present: set[str],
    items: list[RemovalItem],
    result: Verified,
) -> None:
    for item in items:
        assert item.id is not None
        if item.identity in present:
            if (
                item.state == RemovalState.REMOVED
                and item.removed_at is not None
                and scan.started_at >= item.removed_at
            ):
                item.state = RemovalState.FAILED
                item.detail = fit(
                    f"the portal said it removed the user, but ok scan #{scan.id} still lists them",
                    RemovalItem.detail,
                )
                item.updated_at = utcnow()
                session.add(item)
                result.still_listed.append(item.id)
                record(
                    session,
                    actor=ACTOR,
                    action="removal.failed",
                    detail={"item_id": item.id, "org_id": org_id, "scan_id": scan.id},
                )
            continue
        how = "removed by the client" if item.state == RemovalState.REQUESTED else "removed"
        item.state = RemovalState.VERIFIED
        item.verified_at = utcnow()
        item.verified_scan_id = scan.id
        item.detail = fit(
            f"{how}; ok scan #{scan.id} no longer shows the access", RemovalItem.detail
        )
        item.updated_at = item.verified_at
        session.add(item)
        result.items.append(item.id)
        record(
            session,
            actor=ACTOR,
            action="removal.verified",
            detail={
                "item_id": item.id,
                "plan_id": item.plan_id,
                "org_id": org_id,
                "identity": item.identity,
                "scan_id": scan.id,
            },
        )


def _settle_requests(
    session: Session,
    org_id: int,
    scan: Scan,
    present: set[str],
    requests: list[ClientRequest],
    result: Verified,
) -> None:
    for request in requests:
        if request.identity in present or scan.finished_at < request.requested_at:
            continue
        request.seen_removed_at = scan.finished_at
        request.seen_removed_scan_id = scan.id
        session.add(request)
        assert request.id is not None
        result.client_requests.append(request.id)
        record(
            session,
            actor=ACTOR,
            action="removal.client_done",
            detail={
                "request_id": request.id,
                "org_id": org_id,
                "identity": request.identity,
                "scan_id": scan.id,
            },
        )
