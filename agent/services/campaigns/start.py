"""Starting a campaign: one snapshot of who can reach each client's books.

The snapshot is taken from findings, which reconcile keeps in step with each org's
latest ok scan: every open finding that is access by a practice person becomes an
item. Client users are the client's own business, the agent's logins are how the
practice reads the books, and ``missing_expected`` is access that is *not* there, so
none of them is reviewed. An org never read ok has nothing to snapshot: the campaign
says how many such orgs there are rather than pretending they were reviewed.

Each item goes to the client's manager, else the client's partner, else the practice
admins (``reviewer`` empty), as the client list says on the day the campaign starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import FindingClass, ReviewerBasis, ScanStatus
from agent.security.audit import record
from agent.security.principal import Principal
from agent.services.reconcile_inputs import agent_identities
from agent.storage.links import join_client
from agent.storage.models import Campaign, CampaignItem, Client, Finding, Org, Scan
from agent.storage.widths import fit

__all__ = [
    "NOT_REVIEWED",
    "CampaignError",
    "StartedCampaign",
    "reviewer_for",
    "start_campaign",
]

#: Finding classes that are not a practice person's access to review.
NOT_REVIEWED = frozenset({FindingClass.CLIENT_USER, FindingClass.MISSING_EXPECTED})


class CampaignError(ValueError):
    """A campaign action that cannot be taken; the message says why."""


@dataclass(frozen=True, slots=True)
class StartedCampaign:
    campaign: Campaign
    items: int
    reviewers: int
    #: orgs with no ok scan at all: nothing of theirs could be put in front of a reviewer
    orgs_never_read: int


def reviewer_for(client: Client | None) -> tuple[str, ReviewerBasis]:
    """Who reviews a client's access: its manager, else its partner, else the admins."""
    if client is not None and client.client_manager.strip():
        return client.client_manager.strip(), ReviewerBasis.CLIENT_MANAGER
    if client is not None and client.partner.strip():
        return client.partner.strip(), ReviewerBasis.PARTNER
    return "", ReviewerBasis.PRACTICE_ADMIN


def start_campaign(
    session: Session,
    principal: Principal,
    name: str,
    *,
    due_on: date,
    now: datetime | None = None,
) -> StartedCampaign:
    """A new campaign with its items (flushed); refused with a reason when it cannot start."""
    now = now or utcnow()
    if not principal.is_admin:
        raise CampaignError(
            f"{principal.name} is {principal.role.value.replace('_', ' ')}: only practice "
            "admins start access reviews"
        )
    name = " ".join(name.split())
    if not name:
        raise CampaignError("a campaign needs a name, such as 'Q1 2027'")
    if len(name) > 200:
        raise CampaignError("a campaign name is at most 200 characters")
    if due_on < now.date():
        raise CampaignError(f"the due date {due_on.isoformat()} is already past")
    if session.exec(select(Campaign.id).where(Campaign.name == name)).first() is not None:
        raise CampaignError(f"a campaign named {name!r} already exists")
    latest_ok = dict(
        session.exec(
            select(Scan.org_id, func.max(Scan.id))
            .where(col(Scan.status) == ScanStatus.OK)
            .group_by(col(Scan.org_id))
        ).all()
    )
    if not latest_ok:
        raise CampaignError(
            "no org has an ok scan yet: run 'accessrecon scan' first, so the review shows "
            "who can really reach each client's books"
        )
    campaign = Campaign(
        name=name,
        due_on=due_on,
        started_at=now,
        started_by=fit(principal.actor, Campaign.started_by),
    )
    session.add(campaign)
    session.flush()
    assert campaign.id is not None
    agents = agent_identities(session)
    rows = session.exec(
        join_client(
            select(Finding, Org, Client)
            .select_from(Finding)
            .join(Org, col(Org.id) == col(Finding.org_id))
        )
        .where(
            col(Finding.resolved_at).is_(None),
            col(Finding.finding_class).not_in([c.value for c in NOT_REVIEWED]),
            col(Finding.org_id).in_(select(Scan.org_id).where(col(Scan.status) == ScanStatus.OK)),
        )
        .order_by(col(Finding.org_id), col(Finding.identity))
    )
    reviewers: set[str] = set()
    count = 0
    for finding, org, client in rows:
        if finding.identity in agents:
            continue
        assert org.id is not None
        reviewer, basis = reviewer_for(client)
        reviewers.add(reviewer)
        session.add(
            CampaignItem(
                campaign_id=campaign.id,
                org_id=org.id,
                client_id=client.id if client else None,
                finding_id=finding.id,
                scan_id=latest_ok.get(org.id),
                identity=finding.identity,
                staff_id=finding.staff_id,
                email=finding.email,
                name=finding.name,
                role=finding.role,
                finding_class=finding.finding_class,
                reviewer=fit(reviewer, CampaignItem.reviewer),
                reviewer_basis=basis,
            )
        )
        count += 1
    all_orgs = session.exec(select(func.count()).select_from(Org)).one()
    never_read = all_orgs - len(latest_ok)
    record(
        session,
        actor=principal.actor,
        action="campaign.started",
        detail={
            "campaign_id": campaign.id,
            "name": name,
            "due_on": due_on.isoformat(),
            "items": count,
            "reviewers": len(reviewers),
            "orgs_never_read": never_read,
        },
    )
    session.flush()
    return StartedCampaign(campaign, count, len(reviewers), never_read)
