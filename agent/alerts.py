"""Alerts: new critical and high findings, to the client manager whose clients they touch.

After a crawl, every open ``critical`` or ``high`` finding not yet alerted is grouped
by the client manager of its org's client; each manager gets one message with their
own clients only (by e-mail to their roster address), and the webhook gets one JSON
document per manager. Findings on orgs with no client, or whose manager has no
roster address, go to ``alert_fallback_email``. A finding is alerted once per
channel per episode (``alert_sent``); a failed delivery is not recorded, so the next
crawl tries again.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import Severity
from agent.findings import client_of
from agent.settings import Settings
from agent.storage.models import AlertSent, Finding, Org, Staff, StaffEmail

log = logging.getLogger(__name__)

ALERT_SEVERITIES = (Severity.CRITICAL.value, Severity.HIGH.value)
NO_MANAGER = "(no client manager)"


@dataclass(frozen=True, slots=True)
class AlertItem:
    finding_id: int
    episode: object
    severity: str
    finding_class: str
    client: str | None
    portal: str
    org_id: str
    org_name: str
    email: str
    name: str
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"severity": self.severity, "class": self.finding_class, "client": self.client,
                "portal": self.portal, "org_id": self.org_id, "org": self.org_name,
                "email": self.email, "name": self.name, "detail": self.detail}


@dataclass(slots=True)
class AlertReport:
    sent: dict[str, int] = field(default_factory=dict)  # channel -> findings
    failed: list[str] = field(default_factory=list)


def _pending(session: Session, channel: str) -> dict[str, list[AlertItem]]:
    """Open critical/high findings not yet alerted on ``channel``, by client manager."""
    sent = {(a.finding_id, a.episode) for a in session.exec(
        select(AlertSent).where(AlertSent.channel == channel))}
    groups: dict[str, list[AlertItem]] = defaultdict(list)
    query = (select(Finding, Org).join(Org, col(Org.id) == col(Finding.org_id))
             .where(col(Finding.resolved_at).is_(None),
                    col(Finding.severity).in_(ALERT_SEVERITIES))
             .order_by(col(Finding.id)))
    for finding, org in session.exec(query):
        assert finding.id is not None
        if (finding.id, finding.first_seen_at) in sent:
            continue
        client = client_of(session, org)
        manager = client.client_manager if client and client.client_manager else NO_MANAGER
        groups[manager].append(AlertItem(
            finding_id=finding.id, episode=finding.first_seen_at, severity=finding.severity,
            finding_class=finding.finding_class, client=client.name if client else None,
            portal=org.portal, org_id=org.portal_org_id, org_name=org.name,
            email=finding.email, name=finding.name, detail=finding.detail,
        ))
    return dict(groups)


def _manager_address(session: Session, manager: str) -> str | None:
    row = session.exec(
        select(StaffEmail.email).join(Staff, col(Staff.id) == col(StaffEmail.staff_id))
        .where(col(Staff.name) == manager, col(StaffEmail.is_primary))
    ).first()
    return row


def _mark(session: Session, items: list[AlertItem], channel: str, recipient: str) -> None:
    now = utcnow()
    for item in items:
        session.add(AlertSent(finding_id=item.finding_id, channel=channel,
                              episode=item.episode, recipient=recipient, sent_at=now))


def send_alerts(session: Session, settings: Settings) -> AlertReport:
    """Deliver every pending alert on every configured channel; commit is the caller's."""
    report = AlertReport()
    if settings.alert_webhook_url:
        for manager, items in _pending(session, "webhook").items():
            payload = {"generated_at": utcnow().isoformat(), "client_manager": manager,
                       "findings": [i.as_json() for i in items]}
            try:
                response = httpx.post(settings.alert_webhook_url, json=payload, timeout=15)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                report.failed.append(f"webhook for {manager}: {exc}")
                continue
            _mark(session, items, "webhook", settings.alert_webhook_url)
            report.sent["webhook"] = report.sent.get("webhook", 0) + len(items)
    if settings.smtp_host:
        by_recipient: dict[str, dict[str, list[AlertItem]]] = defaultdict(dict)
        for manager, items in _pending(session, "email").items():
            address = None if manager == NO_MANAGER else _manager_address(session, manager)
            recipient = address or settings.alert_fallback_email
            if not recipient:
                report.failed.append(f"e-mail for {manager}: no address on the roster and no "
                                     "ACCESSRECON_ALERT_FALLBACK_EMAIL")
                continue
            by_recipient[recipient][manager] = items
        for recipient, groups in by_recipient.items():
            try:
                _send_mail(settings, recipient, groups)
            except (OSError, smtplib.SMTPException) as exc:
                report.failed.append(f"e-mail to {recipient}: {exc}")
                continue
            for items in groups.values():
                _mark(session, items, "email", recipient)
                report.sent["email"] = report.sent.get("email", 0) + len(items)
    for problem in report.failed:
        log.warning("alert not delivered: %s", problem)
    return report


def _send_mail(settings: Settings, recipient: str, groups: dict[str, list[AlertItem]]) -> None:
    """One message per recipient, a section per client manager it covers."""
    assert settings.smtp_host
    items = [item for group in groups.values() for item in group]
    message = EmailMessage()
    critical = sum(1 for i in items if i.severity == Severity.CRITICAL)
    message["Subject"] = (f"accessrecon: {len(items)} new access finding"
                          f"{'s' if len(items) != 1 else ''} on your clients"
                          + (f" ({critical} critical)" if critical else ""))
    message["From"] = settings.smtp_from
    message["To"] = recipient
    lines: list[str] = []
    for manager, group in sorted(groups.items()):
        lines += [f"New findings for clients managed by {manager}:", ""]
        for item in group:
            who = f"{item.name} <{item.email}>" if item.name else item.email
            lines.append(f"- [{item.severity}] {item.client or '(no client)'} · {item.portal} "
                         f"{item.org_name} ({item.org_id}): {who} — {item.finding_class}"
                         + (f": {item.detail}" if item.detail else ""))
        lines.append("")
    message.set_content("\n".join(lines))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
