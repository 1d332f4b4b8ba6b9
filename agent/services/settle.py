"""Settling what was just recorded: reconcile it, then alert on what that raised.

Whatever records user lists (a crawl, a passive capture, a removal run's re-read) or
changes what they are judged against (``accessrecon reconcile``) ends here; removals
the scans no longer show are verified here too, so a new critical finding is
alerted the same way however it was found. Alerts follow reconcile in the same
transaction: ``send_alerts`` only sees findings reconcile has written, and what it
marks as sent is committed with them (a delivery that fails is not marked, so the
next settle tries again).

Access review campaigns follow the same scans: an "already gone" claim or a removal
decided in a review is confirmed here, and reviewers' notices go out with the alerts
(``agent.services.campaigns``).

The crawl engine composes this after a crawl (``agent.crawl.pipeline``); this module
knows nothing of crawling.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session

from agent.services.access_ends import orgs_with_ended_grants, send_access_end_reminders
from agent.services.alerts import AlertReport, send_alerts
from agent.services.campaigns.notices import send_notices
from agent.services.campaigns.progress import FollowedUp, follow_up
from agent.services.findings import reconcile
from agent.services.removals.alerts import send_removal_alerts
from agent.services.removals.verification import Verified, verify_removals
from agent.settings import Settings

if TYPE_CHECKING:
    from agent.services.findings import ReconcileSummary


@dataclass(frozen=True, slots=True)
class Settled:
    findings: ReconcileSummary
    alerts: AlertReport
    removals: Verified
    campaigns: FollowedUp


def settle(
    session: Session,
    settings: Settings,
    *,
    org_ids: Iterable[int] | None = None,
    today: date | None = None,
) -> Settled:
    """Reconcile every org (or ``org_ids``, and those whose grants ended since), settle
    the removals waiting on them, then deliver every pending alert and reminder.

    The commit is the caller's, as for ``reconcile`` and ``send_alerts``.
    """
    ended = [] if org_ids is None else orgs_with_ended_grants(session, today=today)
    wanted = None if org_ids is None else sorted({*org_ids, *ended})
    findings = reconcile(
        session, configured_domains=settings.practice_domains, org_ids=wanted, today=today
    )
    removals = verify_removals(session, org_ids=wanted)
    campaigns = follow_up(session, org_ids=wanted)
    alerts = send_alerts(session, settings)
    removal_alerts = send_removal_alerts(session, settings)
    for channel, n in removal_alerts.sent.items():
        alerts.sent[f"removals.{channel}"] = n
    alerts.failed.extend(removal_alerts.failed)
    reminders = send_access_end_reminders(session, settings, today=today)
    for channel, n in reminders.sent.items():
        alerts.sent[f"access_ends.{channel}"] = n
    alerts.failed.extend(reminders.failed)
    notices = send_notices(session, settings, today=today)
    alerts.sent.update(notices.sent)
    alerts.failed.extend(notices.failed)
    return Settled(findings=findings, alerts=alerts, removals=removals, campaigns=campaigns)
