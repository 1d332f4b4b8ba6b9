"""Intended access that ends: the orgs to judge again, and the reminder before the end.

An intended-access row may carry ``until``, the last day the practice means the
access to last. From the day after, reconcile reads the row no more
(``agent.services.reconcile_inputs.grant_in_force``), so the access is judged as if
never granted: still there, it is a direct invite; never there, nothing is missing.

That must show on the day after, even if the org is not read again: a settle after
any crawl, capture or removal run reconciles, besides the orgs it was given, every
org whose open findings still rest on a grant that has ended
(``orgs_with_ended_grants``). The test is the findings' own state (a finding that
names an intended role for a person whose grant there has ended), not a clock, so
an org is reconciled once for an end and then drops out. An org whose newest read
is a passive capture waits for the agent's next scan of it: a capture may raise
findings but never resolve one, so judging it again would settle nothing.

``ACCESSRECON_ACCESS_END_REMINDER_DAYS`` before the end the client manager of the
org's client hears of it, once per grant and end date on each channel: an
``alert.access_end`` audit event per grant, date and channel remembers it, so an end
moved to a later date by a new access file is reminded again, and a delivery that
failed is tried again at the next settle. Recipients are chosen as for finding
alerts (``agent.services.alerts``): the manager's roster address, else
``alert_fallback_email``; the webhook gets one JSON document per manager.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import ScanSource, ScanStatus
from agent.security.audit import record
from agent.services.alerts import (
    NO_MANAGER,
    AlertReport,
    alert_channels,
    deliver_to_manager,
)
from agent.settings import Settings
from agent.storage.links import client_of
from agent.storage.models import (
    AuditEvent,
    Finding,
    IntendedAccess,
    Org,
    Scan,
    Staff,
    StaffEmail,
)

__all__ = [
    "ALERTED",
    "AccessEnd",
    "due_access_ends",
    "orgs_with_ended_grants",
    "send_access_end_reminders",
]

ALERTED = "alert.access_end"


@dataclass(frozen=True, slots=True)
class AccessEnd:
    """One intended access that ends soon, as its client manager reads it."""

    grant_id: int
    until: date
    days_left: int
    staff_name: str
    email: str
    role: str
    portal: str
    portal_org_id: str
    org_name: str | None
    client: str | None

    @property
    def key(self) -> str:
        """What makes the reminder once-only: the grant and the end it names."""
        return f"access_end:{self.grant_id}@{self.until.isoformat()}"

    def as_json(self) -> dict[str, object]:
        return {
            "event": "access_end",
            "until": self.until.isoformat(),
            "days_left": self.days_left,
            "client": self.client,
            "portal": self.portal,
            "org_id": self.portal_org_id,
            "org": self.org_name,
            "email": self.email,
            "name": self.staff_name,
            "role": self.role,
        }

    @property
    def line(self) -> str:
        who = f"{self.staff_name} <{self.email}>" if self.email else self.staff_name
        org = f"{self.org_name} ({self.portal_org_id})" if self.org_name else self.portal_org_id
        when = "today" if self.days_left == 0 else f"in {self.days_left} days"
        return (
            f"- {self.client or '(no client)'} · {self.portal} {org}: {who}, "
            f"{self.role or 'access'}, ends {self.until.isoformat()} ({when})"
        )


def orgs_with_ended_grants(session: Session, *, today: date | None = None) -> list[int]:
    """Orgs with an open finding that still names an intended role for a person whose
    grant on that org ended before ``today``, and whose newest ok scan is the agent's:
    reconciling them judges the access without the grant."""
    today = today or utcnow().date()
    query = (
        select(Finding.org_id)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .join(
            IntendedAccess,
            and_(
                col(IntendedAccess.staff_id) == col(Finding.staff_id),
                col(IntendedAccess.portal) == col(Org.portal),
                col(IntendedAccess.portal_org_id) == col(Org.portal_org_id),
            ),
        )
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.intended_role).is_not(None),
            col(IntendedAccess.until) < today,
        )
        .distinct()
    )
    candidates = sorted(session.exec(query))
    if not candidates:
        return []
    newest: dict[int, str] = {}
    for org_id, source in session.exec(
        select(Scan.org_id, Scan.source)
        .where(col(Scan.org_id).in_(candidates), Scan.status == ScanStatus.OK)
        .order_by(col(Scan.org_id), col(Scan.finished_at).desc(), col(Scan.id).desc())
    ):
        newest.setdefault(org_id, source)
    return [o for o in candidates if newest.get(o, ScanSource.EXTENSION) != ScanSource.EXTENSION]


def due_access_ends(
    session: Session, *, days: int, today: date | None = None
) -> list[tuple[str, AccessEnd]]:
    """Intended access ending from ``today`` to ``days`` later, with each one's client
    manager (``NO_MANAGER`` for an org linked to no client or a client without one)."""
    today = today or utcnow().date()
    rows = session.exec(
        select(IntendedAccess, Staff)
        .join(Staff, col(Staff.id) == col(IntendedAccess.staff_id))
        .where(col(IntendedAccess.until).is_not(None), col(IntendedAccess.until) >= today)
        .order_by(col(IntendedAccess.until), col(IntendedAccess.id))
    ).all()
    due: list[tuple[str, AccessEnd]] = []
    for grant, staff in rows:
        assert grant.id is not None
        assert grant.until is not None
        left = (grant.until - today).days
        if left > days:
            break
        org = session.exec(
            select(Org).where(Org.portal == grant.portal, Org.portal_org_id == grant.portal_org_id)
        ).first()
        client = client_of(session, grant.portal, grant.portal_org_id)
        manager = client.client_manager if client and client.client_manager else NO_MANAGER
        due.append(
            (
                manager,
                AccessEnd(
                    grant_id=grant.id,
                    until=grant.until,
                    days_left=left,
                    staff_name=staff.name,
                    email=_primary_email(session, staff),
                    role=grant.role,
                    portal=grant.portal,
                    portal_org_id=grant.portal_org_id,
                    org_name=org.name if org else None,
                    client=client.name if client else None,
                ),
            )
        )
    return due


def _primary_email(session: Session, staff: Staff) -> str:
    return (
        session.exec(
            select(StaffEmail.email)
            .where(StaffEmail.staff_id == staff.id)
            .order_by(col(StaffEmail.is_primary).desc(), col(StaffEmail.id))
        ).first()
        or ""
    )


def send_access_end_reminders(
    session: Session, settings: Settings, *, today: date | None = None
) -> AlertReport:
    """Remind each client manager of the intended access on their clients that ends
    within ``access_end_reminder_days``, once per grant and end; the commit is the caller's."""
    report = AlertReport()
    channels = alert_channels(settings)
    if not channels:
        return report
    due = due_access_ends(session, days=settings.access_end_reminder_days, today=today)
    for channel in channels:
        done = _alerted(session, channel)
        groups: dict[str, list[AccessEnd]] = defaultdict(list)
        for manager, end in due:
            if end.key not in done:
                groups[manager].append(end)
        for manager, ends in groups.items():
            recipient = _deliver(session, settings, channel, manager, ends, report)
            if recipient is None:
                continue
            for end in ends:
                record(
                    session,
                    actor="alerts",
                    action=ALERTED,
                    detail={
                        "key": end.key,
                        "grant_id": end.grant_id,
                        "until": end.until.isoformat(),
                        "channel": channel,
                        "recipient": recipient,
                    },
                )
            report.sent[channel] = report.sent.get(channel, 0) + len(ends)
    return report


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
    ends: list[AccessEnd],
    report: AlertReport,
) -> str | None:
    """Send one manager's reminders on ``channel``; the recipient, or None if not delivered."""
    count = len(ends)
    lines = [
        f"Intended access ending on clients managed by {manager}:",
        "",
        *(e.line for e in ends),
        "",
        "After its last day an access is reported as never granted. To keep it, import "
        "the access file again with a later until; otherwise plan its removal.",
    ]
    return deliver_to_manager(
        session,
        settings,
        channel,
        manager,
        what="access ends",
        payload={
            "generated_at": utcnow().isoformat(),
            "client_manager": manager,
            "access_ends": [e.as_json() for e in ends],
        },
        subject=(
            f"accessrecon: {count} intended access{'es' if count != 1 else ''} ending on "
            "your clients"
        ),
        body="\n".join(lines) + "\n",
        report=report,
    )
