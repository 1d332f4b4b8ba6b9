"""Alerts: new critical and high findings, to the client manager whose clients they touch.

After a crawl, every open ``critical`` or ``high`` finding not yet alerted is grouped
by the client manager of its org's client; each manager gets one message with their
own clients only (by e-mail to their roster address), and the webhook gets one JSON
document per manager. Findings on orgs with no client, or whose manager has no
roster address, go to ``alert_fallback_email``. A finding is alerted once per
channel per episode (``alert_sent``); a failed delivery is not recorded, so the next
crawl tries again.

A portal login that cannot sign in is alerted like a critical finding: while it
fails, none of its orgs is read, so nothing new about them can be found. It has no
client manager; it goes to the webhook (class ``sign_in_failed``) and to
``alert_fallback_email``, once per failure episode (the failed sign-ins since its
last good one), recorded as an ``alert.sign_in_failure`` audit event per channel.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

import httpx
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import Severity
from agent.security.audit import record
from agent.services.signins import LoginSignIn, failing_logins
from agent.settings import Settings
from agent.storage.links import client_of
from agent.storage.models import AlertSent, AuditEvent, Finding, Org, Staff, StaffEmail

log = logging.getLogger(__name__)

ALERT_SEVERITIES = (Severity.CRITICAL.value, Severity.HIGH.value)
NO_MANAGER = "(no client manager)"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_ALERTED = "alert.sign_in_failure"


@dataclass(frozen=True, slots=True)
class AlertItem:
    finding_id: int
    episode: datetime
    severity: str
    finding_class: str
    client: str | None
    portal: str
    portal_org_id: str
    org_name: str
    email: str
    name: str
    detail: str

    def as_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "class": self.finding_class,
            "client": self.client,
            "portal": self.portal,
            "org_id": self.portal_org_id,
            "org": self.org_name,
            "email": self.email,
            "name": self.name,
            "detail": self.detail,
        }


@dataclass(slots=True)
class AlertReport:
    sent: dict[str, int] = field(default_factory=dict)  # channel -> findings
    failed: list[str] = field(default_factory=list)


def _pending(session: Session, channel: str) -> dict[str, list[AlertItem]]:
    """Open critical/high findings not yet alerted on ``channel``, by client manager."""
    sent = {
        (a.finding_id, a.episode)
        for a in session.exec(select(AlertSent).where(AlertSent.channel == channel))
    }
    groups: dict[str, list[AlertItem]] = defaultdict(list)
    query = (
        select(Finding, Org)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .where(col(Finding.resolved_at).is_(None), col(Finding.severity).in_(ALERT_SEVERITIES))
        .order_by(col(Finding.id))
    )
    for finding, org in session.exec(query):
        assert finding.id is not None
        if (finding.id, finding.first_seen_at) in sent:
            continue
        client = client_of(session, org.portal, org.portal_org_id)
        manager = client.client_manager if client and client.client_manager else NO_MANAGER
        groups[manager].append(
            AlertItem(
                finding_id=finding.id,
                episode=finding.first_seen_at,
                severity=finding.severity,
                finding_class=finding.finding_class,
                client=client.name if client else None,
                portal=org.portal,
                portal_org_id=org.portal_org_id,
                org_name=org.name,
                email=finding.email,
                name=finding.name,
                detail=finding.detail,
            )
        )
    return dict(groups)


def manager_address(session: Session, manager: str) -> str | None:
    row = session.exec(
        select(StaffEmail.email)
        .join(Staff, col(Staff.id) == col(StaffEmail.staff_id))
        .where(col(Staff.name) == manager, col(StaffEmail.is_primary))
    ).first()
    return row


def _mark(session: Session, items: list[AlertItem], channel: str, recipient: str) -> None:
    now = utcnow()
    for item in items:
        session.add(
            AlertSent(
                finding_id=item.finding_id,
                channel=channel,
                episode=item.episode,
                recipient=recipient,
                sent_at=now,
            )
        )


def _sign_in_json(failure: LoginSignIn) -> dict[str, object]:
    """A login's failure as a webhook finding: critical, no client, the login as the person."""
    since = failure.failing_since or failure.at
    return {
        "severity": Severity.CRITICAL.value,
        "class": SIGN_IN_FAILED,
        "client": None,
        "portal": failure.portal,
        "org_id": None,
        "org": None,
        "email": failure.email,
        "name": failure.label,
        "reason": failure.reason,
        "detail": f"the {failure.portal} login {failure.email} cannot sign in since "
        f"{since:%Y-%m-%d %H:%M} UTC: {failure.reason}"
        + (f" ({failure.detail})" if failure.detail else "")
        + "; none of its orgs can be read until it does",
        "failing_since": since.isoformat(),
    }


def _pending_sign_ins(session: Session, channel: str) -> list[LoginSignIn]:
    """Logins failing to sign in whose failure episode has not been alerted on ``channel``."""
    sent = {
        (e.detail.get("login_id"), e.detail.get("episode"))
        for e in session.exec(select(AuditEvent).where(AuditEvent.action == SIGN_IN_ALERTED))
        if e.detail.get("channel") == channel
    }
    return [f for f in failing_logins(session) if (f.login_id, f.episode) not in sent]


def _mark_sign_ins(
    session: Session, failures: list[LoginSignIn], channel: str, recipient: str
) -> None:
    for failure in failures:
        record(
            session,
            actor="alerts",
            action=SIGN_IN_ALERTED,
            detail={
                "login_id": failure.login_id,
                "episode": failure.episode,
                "channel": channel,
                "recipient": recipient,
                "portal": failure.portal,
                "email": failure.email,
                "reason": failure.reason,
            },
        )


def _send_sign_in_alerts(session: Session, settings: Settings, report: AlertReport) -> None:
    """Failing logins, once per episode: to the webhook and to the fallback address."""
    if settings.alert_webhook_url:
        failures = _pending_sign_ins(session, "webhook")
        if failures:
            payload = {
                "generated_at": utcnow().isoformat(),
                "client_manager": NO_MANAGER,
                "findings": [_sign_in_json(f) for f in failures],
            }
            try:
                response = httpx.post(settings.alert_webhook_url, json=payload, timeout=15)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                report.failed.append(f"webhook for failing logins: {exc}")
            else:
                _mark_sign_ins(session, failures, "webhook", settings.alert_webhook_url)
                report.sent["webhook"] = report.sent.get("webhook", 0) + len(failures)
    if settings.smtp_host:
        failures = _pending_sign_ins(session, "email")
        if not failures:
            return
        recipient = settings.alert_fallback_email
        if not recipient:
            report.failed.append(
                "e-mail for failing logins: no ACCESSRECON_ALERT_FALLBACK_EMAIL to send it to"
            )
            return
        try:
            _send_sign_in_mail(settings, recipient, failures)
        except (OSError, smtplib.SMTPException) as exc:
            report.failed.append(f"e-mail to {recipient}: {exc}")
            return
        _mark_sign_ins(session, failures, "email", recipient)
        report.sent["email"] = report.sent.get("email", 0) + len(failures)


def _send_sign_in_mail(settings: Settings, recipient: str, failures: list[LoginSignIn]) -> None:
    message = EmailMessage()
    message["Subject"] = (
        f"accessrecon: {len(failures)} portal login"
        f"{'s' if len(failures) != 1 else ''} cannot sign in (critical)"
    )
    message["From"] = settings.smtp_from
    message["To"] = recipient
    lines = ["These portal logins cannot sign in, so none of their orgs is read:", ""]
    lines += [f"- [critical] {_sign_in_json(f)['detail']}" for f in failures]
    message.set_content("\n".join(lines) + "\n")
    deliver_mail(settings, message)


def post_webhook(url: str, payload: Mapping[str, object]) -> str | None:
    """Post one JSON document; why it was not delivered, or ``None`` when it was."""
    try:
        response = httpx.post(url, json=payload, timeout=15)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        return str(exc)
    return None


def manager_recipient(session: Session, settings: Settings, manager: str) -> str | None:
    """Where a client manager's alerts go: their roster address, else the fallback."""
    address = None if manager == NO_MANAGER else manager_address(session, manager)
    return address or settings.alert_fallback_email


def alert_channels(settings: Settings) -> list[str]:
    """The channels configured: ``webhook`` and/or ``email``."""
    return [
        channel
        for channel, on in (("webhook", settings.alert_webhook_url), ("email", settings.smtp_host))
        if on
    ]


def deliver_to_manager(
    session: Session,
    settings: Settings,
    channel: str,
    manager: str,
    *,
    what: str,
    payload: Mapping[str, object],
    subject: str,
    body: str,
    report: AlertReport,
) -> str | None:
    """Send one message about ``what`` to a client manager on ``channel``: ``payload`` as
    JSON to the webhook, or ``subject`` and ``body`` by e-mail to their roster address
    (else the fallback). The recipient, or ``None`` with the reason added to ``report``."""
    if channel == "webhook":
        assert settings.alert_webhook_url
        problem = post_webhook(settings.alert_webhook_url, payload)
        if problem is not None:
            report.failed.append(f"webhook for {what} of {manager}: {problem}")
            return None
        return settings.alert_webhook_url
    recipient = manager_recipient(session, settings, manager)
    if not recipient:
        report.failed.append(
            f"e-mail about {what} for {manager}: no address on the roster and no "
            "ACCESSRECON_ALERT_FALLBACK_EMAIL"
        )
        return None
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message.set_content(body)
    try:
        deliver_mail(settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        report.failed.append(f"e-mail to {recipient}: {exc}")
        return None
    return recipient


def send_alerts(session: Session, settings: Settings) -> AlertReport:
    """Deliver every pending alert on every configured channel; commit is the caller's."""
    report = AlertReport()
    _send_sign_in_alerts(session, settings, report)
    if settings.alert_webhook_url:
        for manager, items in _pending(session, "webhook").items():
            payload = {
                "generated_at": utcnow().isoformat(),
                "client_manager": manager,
                "findings": [i.as_json() for i in items],
            }
            problem = post_webhook(settings.alert_webhook_url, payload)
            if problem is not None:
                report.failed.append(f"webhook for {manager}: {problem}")
                continue
            _mark(session, items, "webhook", settings.alert_webhook_url)
            report.sent["webhook"] = report.sent.get("webhook", 0) + len(items)
    if settings.smtp_host:
        by_recipient: dict[str, dict[str, list[AlertItem]]] = defaultdict(dict)
        for manager, items in _pending(session, "email").items():
            recipient = manager_recipient(session, settings, manager)
            if not recipient:
                report.failed.append(
                    f"e-mail for {manager}: no address on the roster and no "
                    "ACCESSRECON_ALERT_FALLBACK_EMAIL"
                )
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
    message["Subject"] = (
        f"accessrecon: {len(items)} new access finding"
        f"{'s' if len(items) != 1 else ''} on your clients"
        + (f" ({critical} critical)" if critical else "")
    )
    message["From"] = settings.smtp_from
    message["To"] = recipient
    lines: list[str] = []
    for manager, group in sorted(groups.items()):
        lines += [f"New findings for clients managed by {manager}:", ""]
        for item in group:
            who = f"{item.name} <{item.email}>" if item.name else item.email
            lines.append(
                f"- [{item.severity}] {item.client or '(no client)'} · {item.portal} "
                f"{item.org_name} ({item.portal_org_id}): {who} — {item.finding_class}"
                + (f": {item.detail}" if item.detail else "")
            )
        lines.append("")
    message.set_content("\n".join(lines))
    deliver_mail(settings, message)


def deliver_mail(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
