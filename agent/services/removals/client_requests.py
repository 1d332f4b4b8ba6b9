"""Requests to clients: access only the client can remove, tracked until a scan shows it gone.

A request is opened when a client-only plan item is approved, or when a portal
refuses the practice's removal (its reason becomes the request's). It records when
the practice asked, when it reminded, and the ok scan that first no longer showed
the access. Reminders are due ``client_request_reminder_days`` after the request or
the last reminder; ``due_reminders`` lists them and ``mark_reminded`` records one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.security.audit import record
from agent.storage.links import client_of
from agent.storage.models import Client, ClientRequest, Org, RemovalItem
from agent.storage.widths import fit

__all__ = [
    "OpenRequest",
    "due_reminders",
    "mark_reminded",
    "open_request",
    "requests_of_client",
]

#: why the practice wants each class of access gone, in the client's words
WHY_REMOVE = {
    "leaver_access": "no longer works at the practice",
    "archived_client_access": "the practice no longer acts for this business",
    "unknown_practice_user": "uses a practice address the practice does not know",
    "invited_direct": "the practice has not granted this access",
    "unlinked_org": "the practice has not granted this access",
}


def open_request(
    session: Session,
    item: RemovalItem,
    *,
    requested_by: str,
    why_client: str | None = None,
    at: datetime | None = None,
) -> ClientRequest:
    """Ask the client to remove ``item``'s access (one open request per org and person)."""
    existing = session.exec(
        select(ClientRequest).where(
            ClientRequest.org_id == item.org_id,
            ClientRequest.identity == item.identity,
            col(ClientRequest.seen_removed_at).is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    org = session.get(Org, item.org_id)
    assert org is not None
    client = client_of(session, org.portal, org.portal_org_id)
    request = ClientRequest(
        client_id=client.id if client else None,
        org_id=item.org_id,
        item_id=item.id,
        finding_id=item.finding_id,
        identity=item.identity,
        email=item.email,
        name=item.name,
        why_remove=fit(
            WHY_REMOVE.get(item.finding_class, "access to remove"), ClientRequest.why_remove
        ),
        why_client=fit(why_client or item.removable_reason, ClientRequest.why_client),
        requested_by=fit(requested_by, ClientRequest.requested_by),
        requested_at=at or utcnow(),
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor=requested_by,
        action="removal.client_requested",
        detail={
            "request_id": request.id,
            "item_id": item.id,
            "org_id": item.org_id,
            "identity": item.identity,
            "why_client": request.why_client,
        },
    )
    return request


@dataclass(frozen=True, slots=True)
class OpenRequest:
    request: ClientRequest
    org: Org
    client: Client | None

    @property
    def last_asked(self) -> datetime:
        return self.request.reminded_at or self.request.requested_at


def requests_of_client(
    session: Session, client_id: int | None, *, open_only: bool = False
) -> list[ClientRequest]:
    query = select(ClientRequest).where(ClientRequest.client_id == client_id)
    if open_only:
        query = query.where(col(ClientRequest.seen_removed_at).is_(None))
    return list(
        session.exec(query.order_by(col(ClientRequest.requested_at), col(ClientRequest.id)))
    )


def due_reminders(session: Session, *, days: int, now: datetime | None = None) -> list[OpenRequest]:
    """Open requests last asked (or reminded) at least ``days`` ago."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    due: list[OpenRequest] = []
    for request in session.exec(
        select(ClientRequest)
        .where(col(ClientRequest.seen_removed_at).is_(None))
        .order_by(col(ClientRequest.id))
    ):
        if (request.reminded_at or request.requested_at) > cutoff:
            continue
        org = session.get(Org, request.org_id)
        assert org is not None
        due.append(OpenRequest(request, org, client_of(session, org.portal, org.portal_org_id)))
    return due


def mark_reminded(
    session: Session, requests: Sequence[ClientRequest], *, actor: str, at: datetime | None = None
) -> None:
    when = at or utcnow()
    for request in requests:
        request.reminded_at = when
        session.add(request)
        record(
            session,
            actor=actor,
            action="removal.client_reminded",
            detail={
                "request_id": request.id,
                "org_id": request.org_id,
                "identity": request.identity,
            },
        )
