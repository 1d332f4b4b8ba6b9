"""A reviewer's list: the items of one campaign they decide, with what each org is.

The same rows feed the command line, the dashboard's "My review" page and the
reviewer's workbook, so all three show one list in one order (client, org, person).
A reviewer sees only their own items; a practice admin may ask for everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from agent.security.principal import Principal
from agent.services.campaigns.decisions import REASON_REQUIRED, may_decide
from agent.services.campaigns.progress import items_by_state
from agent.storage.models import Campaign, CampaignItem, Client, Org

__all__ = ["ReviewList", "ReviewRow", "review_list"]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    item_id: int
    client: str
    client_external_id: str
    portal: str
    portal_org_id: str
    org: str
    email: str
    name: str
    role: str
    finding_class: str
    reviewer: str
    reviewer_basis: str
    escalated_from: str
    decision: str
    reason: str
    decided_by: str
    decided_at: datetime | None
    state: str
    removal_item_id: int | None
    confirmed_gone_at: datetime | None

    @property
    def reason_required(self) -> bool:
        """Whether keeping this access needs a reason."""
        return self.finding_class in REASON_REQUIRED


@dataclass(frozen=True, slots=True)
class ReviewList:
    campaign_id: int
    name: str
    due_on: date
    closed_at: datetime | None
    reviewer: str
    rows: list[ReviewRow]

    @property
    def open(self) -> int:
        return sum(1 for r in self.rows if not r.decision)


def review_list(
    session: Session, principal: Principal, campaign_id: int, *, everyone: bool = False
) -> ReviewList:
    """``principal``'s items of the campaign (every item with ``everyone``, admins only).

    An unknown campaign is a ``KeyError``; ``everyone`` asked by a non-admin is a
    ``PermissionError``.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise KeyError(campaign_id)
    if everyone and not principal.is_admin:
        raise PermissionError("only practice admins see every reviewer's list")
    rows = session.exec(
        select(CampaignItem, Org, Client)
        .join(Org, col(Org.id) == col(CampaignItem.org_id))
        .join(Client, col(Client.id) == col(CampaignItem.client_id), isouter=True)
        .where(col(CampaignItem.campaign_id) == campaign_id)
    ).all()
    chosen = [(i, o, c) for i, o, c in rows if everyone or may_decide(principal, i)]
    states = items_by_state(session, [i for i, _, _ in chosen])
    out = [
        ReviewRow(
            item_id=item.id or 0,
            client=client.name if client else "",
            client_external_id=client.external_id if client else "",
            portal=org.portal,
            portal_org_id=org.portal_org_id,
            org=org.name,
            email=item.email,
            name=item.name,
            role=item.role,
            finding_class=item.finding_class,
            reviewer=item.reviewer,
            reviewer_basis=item.reviewer_basis,
            escalated_from=item.escalated_from,
            decision=item.decision,
            reason=item.reason,
            decided_by=item.decided_by,
            decided_at=item.decided_at,
            state=states.get(item.id or 0, ""),
            removal_item_id=item.removal_item_id,
            confirmed_gone_at=item.confirmed_gone_at,
        )
        for item, org, client in chosen
    ]
    out.sort(key=lambda r: (r.client.casefold(), r.org.casefold(), r.email, r.item_id))
    return ReviewList(
        campaign_id=campaign_id,
        name=campaign.name,
        due_on=campaign.due_on,
        closed_at=campaign.closed_at,
        reviewer="everyone" if everyone else principal.name,
        rows=out,
    )
