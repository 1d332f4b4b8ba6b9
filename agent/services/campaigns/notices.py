"""What reviewers are told, and when: invitation, reminder, escalation.

* **invitation** — once a reviewer has items, the link to their list;
* **reminder** — ``campaign_reminder_days`` before the due date, to each reviewer who
  still has open items;
* **escalation** — the day after the due date, every open item still with a client
  manager (or someone it was handed to) goes to the client's partner (the practice
  admins when there is no other partner), and the new reviewer is told.

Escalation changes the items whether or not any channel is configured: the due date
is a rule of the review, not of the mail server. Notices go by e-mail to the
reviewer's roster address (else ``alert_fallback_email``; unassigned items are the
practice admins', who get the fallback) and as JSON to the webhook. Each kind is
sent once per reviewer and campaign (``CampaignNotice``); a notice no channel
delivered is not remembered, so the next settle tries again.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import ReviewerBasis
from agent.security.audit import record
from agent.services.alerts import NO_MANAGER, AlertReport, alert_channels, deliver_to_manager
from agent.services.campaigns.decisions import next_up
from agent.settings import Settings
from agent.storage.models import Campaign, CampaignItem, CampaignNotice
from agent.storage.widths import fit

__all__ = [
    "ESCALATION",
    "INVITATION",
    "REMINDER",
    "escalate_overdue",
    "review_link",
    "send_notices",
]

INVITATION = "invitation"
REMINDER = "reminder"
ESCALATION = "escalation"

_SUBJECTS = {
    INVITATION: "access review {name}: {n} item(s) for you to decide by {due}",
    REMINDER: "reminder: access review {name} is due on {due}, {n} item(s) still open",
    ESCALATION: "access review {name} is overdue: {n} open item(s) passed to you",
}


def review_link(settings: Settings, campaign_id: int) -> str:
    """The reviewer's page: ``dashboard_url`` is the dashboard's own address (its
    ``/dashboard`` included), so a practice behind a proxy can give any path."""
    base = settings.dashboard_url or f"http://{settings.host}:{settings.port}/dashboard"
    return f"{base.rstrip('/')}/review/{campaign_id}"


def escalate_overdue(session: Session, *, today: date, now: datetime | None = None) -> int:
    """Hand every open item of an overdue campaign up the line, once; how many moved."""
    now = now or utcnow()
    moved = 0
    overdue = session.exec(
        select(Campaign).where(col(Campaign.closed_at).is_(None), col(Campaign.due_on) < today)
    )
    for campaign in overdue:
        items = session.exec(
            select(CampaignItem).where(
                col(CampaignItem.campaign_id) == campaign.id,
                col(CampaignItem.decision) == "",
                col(CampaignItem.escalated_at).is_(None),
                col(CampaignItem.reviewer) != "",
            )
        )
        counts: Counter[str] = Counter()
        for item in items:
            target = next_up(session, item)
            if target is None:
                continue
            item.escalated_from = item.reviewer
            item.escalated_at = now
            item.reviewer = fit(target, CampaignItem.reviewer)
            item.reviewer_basis = ReviewerBasis.ESCALATED
            session.add(item)
            counts[target or "the practice admins"] += 1
            moved += 1
        if counts:
            record(
                session,
                actor="campaigns",
                action="campaign.escalated",
                detail={"campaign_id": campaign.id, "to": dict(counts)},
            )
    session.flush()
    return moved


def send_notices(
    session: Session, settings: Settings, *, today: date | None = None, now: datetime | None = None
) -> AlertReport:
    """Escalate what is overdue, then send every notice now due. Commit is the caller's."""
    now = now or utcnow()
    today = today or now.date()
    report = AlertReport()
    escalate_overdue(session, today=today, now=now)
    if not alert_channels(settings):
        return report
    campaigns = session.exec(select(Campaign).where(col(Campaign.closed_at).is_(None)))
    for campaign in campaigns:
        assert campaign.id is not None
        sent = {
            (n.reviewer, n.kind)
            for n in session.exec(
                select(CampaignNotice).where(col(CampaignNotice.campaign_id) == campaign.id)
            )
        }
        open_items: Counter[str] = Counter()
        escalated: Counter[str] = Counter()
        for item in session.exec(
            select(CampaignItem).where(col(CampaignItem.campaign_id) == campaign.id)
        ):
            if not item.decision:
                open_items[item.reviewer] += 1
                if item.escalated_at is not None:
                    escalated[item.reviewer] += 1
        reminding = campaign.due_on - timedelta(days=settings.campaign_reminder_days) <= today
        for reviewer, n in sorted(open_items.items()):
            due: list[str] = []
            if (reviewer, INVITATION) not in sent and not escalated[reviewer]:
                due.append(INVITATION)
            if reminding and today <= campaign.due_on and (reviewer, REMINDER) not in sent:
                due.append(REMINDER)
            if escalated[reviewer] and (reviewer, ESCALATION) not in sent:
                due.append(ESCALATION)
            for kind in due:
                recipient = _deliver(session, settings, campaign, reviewer, kind, n, report)
                if recipient is not None:
                    session.add(
                        CampaignNotice(
                            campaign_id=campaign.id,
                            reviewer=fit(reviewer, CampaignNotice.reviewer),
                            kind=kind,
                            recipient=fit(recipient, CampaignNotice.recipient),
                            sent_at=now,
                        )
                    )
                    report.sent[f"campaign.{kind}"] = report.sent.get(f"campaign.{kind}", 0) + 1
    session.flush()
    return report


def _deliver(
    session: Session,
    settings: Settings,
    campaign: Campaign,
    reviewer: str,
    kind: str,
    open_items: int,
    report: AlertReport,
) -> str | None:
    """Send one notice on every channel; where it went last, or None if nowhere."""
    assert campaign.id is not None
    who = reviewer or "the practice admins"
    link = review_link(settings, campaign.id)
    subject = _SUBJECTS[kind].format(
        name=campaign.name, n=open_items, due=campaign.due_on.isoformat()
    )
    delivered: str | None = None
    for channel in alert_channels(settings):
        sent = deliver_to_manager(
            session,
            settings,
            channel,
            reviewer or NO_MANAGER,  # the admins' notices go to the fallback address
            what=f"the {kind} of {campaign.name}",
            payload={
                "event": f"campaign.{kind}",
                "campaign": campaign.name,
                "campaign_id": campaign.id,
                "due_on": campaign.due_on.isoformat(),
                "reviewer": reviewer,
                "open_items": open_items,
                "link": link,
            },
            subject=f"accessrecon: {subject}",
            body=(
                f"{who}: {subject}.\n\n"
                f"Your list: {link}\n\n"
                "For each access decide keep (with a reason for direct invites, unknown "
                "practice addresses and leavers), remove, not my client, or already gone.\n"
            ),
            report=report,
        )
        delivered = sent or delivered
    return delivered
