"""Removal alerts: the client manager hears how removals on their clients ended.

Three events, each alerted once per channel (an ``alert.removal`` audit event per
event and channel remembers it; a failed delivery is not remembered, so the next
settle tries again):

* ``verified`` — a removal (the practice's or the client's) that an ok scan confirmed;
* ``refused`` — the portal refused the practice's removal, so the client was asked;
* ``awaiting_client`` — a request to the client still open after
  ``client_request_reminder_days``; alerting it records a reminder, so the next one
  is due that many days later.

Messages are grouped by the client manager of the org's client, like finding
alerts (``agent.services.alerts``), and go to the manager's roster address, else to
``alert_fallback_email``; the webhook gets one JSON document per manager.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import RemovalAction, RemovalState
from agent.security.audit import record
from agent.services.alerts import (
    NO_MANAGER,
    AlertReport,
    alert_channels,
    deliver_to_manager,
)
from agent.services.removals.client_requests import due_reminders, mark_reminded
from agent.settings import Settings
from agent.storage.links import client_of
from agent.storage.models import AuditEvent, ClientRequest, Org, RemovalItem

__all__ = ["RemovalEvent", "send_removal_alerts"]

ALERTED = "alert.removal"
VERIFIED = "verified"
REFUSED = "refused"
AWAITING = "awaiting_client"


@dataclass(frozen=True, slots=True)
class RemovalEvent:
    kind: str
    #: ``item:<id>`` or ``request:<id>[@<reminder date>]``: what makes it alerted once
    key: str
    client: str | None
    portal: str
    portal_org_id: str
    org_name: str
    email: str
    name: str
    detail: str
    request: ClientRequest | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "event": self.kind,
            "client": self.client,
            "portal": self.portal,
            "org_id": self.portal_org_id,
            "org": self.org_name,
            "email": self.email,
            "name": self.name,
            "detail": self.detail,
        }


def send_removal_alerts(session: Session, settings: Settings) -> AlertReport:
    """Deliver every removal event not yet alerted; the commit is the caller's."""
    report = AlertReport()
    channels = alert_channels(settings)
    if not channels:
        return report
    events = _events(session, settings)
    reminded: dict[int, ClientRequest] = {}
    for channel in channels:
        done = _alerted(session, channel)
        groups: dict[str, list[RemovalEvent]] = defaultdict(list)
        for manager, event in events:
            if event.key not in done:
                groups[manager].append(event)
        for manager, group in groups.items():
            recipient = _deliver(session, settings, channel, manager, group, report)
            if recipient is None:
                continue
            for event in group:
                record(
                    session,
                    actor="alerts",
                    action=ALERTED,
                    detail={
                        "key": event.key,
                        "event": event.kind,
                        "channel": channel,
                        "recipient": recipient,
                    },
                )
                if event.request is not None and event.request.id is not None:
                    reminded[event.request.id] = event.request
            report.sent[channel] = report.sent.get(channel, 0) + len(group)
    if reminded:
        mark_reminded(session, list(reminded.values()), actor="alerts")
    return report


def _events(session: Session, settings: Settings) -> list[tuple[str, RemovalEvent]]:
    events: list[tuple[str, RemovalEvent]] = []
    rows = session.exec(
        select(RemovalItem, Org)
        .join(Org, col(Org.id) == col(RemovalItem.org_id))
        .where(
            (col(RemovalItem.state) == RemovalState.VERIFIED)
            # the practice meant to remove it, and was refused: now with the client
            | (
                (col(RemovalItem.state) == RemovalState.REQUESTED)
                & (col(RemovalItem.action) == RemovalAction.REMOVE)
            )
        )
        .order_by(col(RemovalItem.id))
    )
    for item, org in rows:
        kind = VERIFIED if item.state == RemovalState.VERIFIED else REFUSED
        events.append(
            _event(session, org, kind, f"{kind}:item:{item.id}", item.email, item.name, item.detail)
        )
    for due in due_reminders(session, days=settings.client_request_reminder_days):
        request = due.request
        asked = (request.reminded_at or request.requested_at).date().isoformat()
        days = (utcnow() - request.requested_at).days
        events.append(
            _event(
                session,
                due.org,
                AWAITING,
                f"{AWAITING}:request:{request.id}@{asked}",
                request.email,
                request.name,
                f"asked of the client {days} days ago ({request.requested_at:%Y-%m-%d}); "
                "no scan has shown it removed",
                request=request,
            )
        )
    return events


def _event(
    session: Session,
    org: Org,
    kind: str,
    key: str,
    email: str,
    name: str,
    detail: str,
    request: ClientRequest | None = None,
) -> tuple[str, RemovalEvent]:
    client = client_of(session, org.portal, org.portal_org_id)
    manager = client.client_manager if client and client.client_manager else NO_MANAGER
    return manager, RemovalEvent(
        kind=kind,
        key=key,
        client=client.name if client else None,
        portal=org.portal,
        portal_org_id=org.portal_org_id,
        org_name=org.name,
        email=email,
        name=name,
        detail=detail,
        request=request,
    )


def _alerted(session: Session, channel: str) -> set[str]:
    return {
        str(e.detail.get("key"))
        for e in session.exec(select(AuditEvent).where(AuditEvent.action == ALERTED))
        if e.detail.get("channel") == channel
    }


def _deliver(
    session: Session,
    settings: Settings,
    channel: str,
    manager: str,
    events: list[RemovalEvent],
    report: AlertReport,
) -> str | None:
    """Send one manager's events on ``channel``; the recipient, or None if not delivered."""
    words = {
        VERIFIED: "verified removed",
        REFUSED: "refused by the portal, client asked",
        AWAITING: "still waiting for the client",
    }
    lines = [f"Removals on clients managed by {manager}:", ""]
    for e in events:
        who = f"{e.name} <{e.email}>" if e.name else e.email
        lines.append(
            f"- [{words[e.kind]}] {e.client or '(no client)'} · {e.portal} {e.org_name} "
            f"({e.portal_org_id}): {who}" + (f": {e.detail}" if e.detail else "")
        )
    return deliver_to_manager(
        session,
        settings,
        channel,
        manager,
        what="removals",
        payload={
            "generated_at": utcnow().isoformat(),
            "client_manager": manager,
            "removals": [e.as_json() for e in events],
        },
        subject=f"accessrecon: {len(events)} removal update(s) on your clients",
        body="\n".join(lines) + "\n",
        report=report,
    )
