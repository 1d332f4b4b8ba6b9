"""Access review campaigns: each client manager's decision on every practice access.

A campaign is a snapshot, taken once from the latest ok scans: one item per practice
person's access to an org (client users and the agent's own logins are not reviewed).
Each item names the person who must decide it: the client's manager, else its partner,
else the practice admins (``reviewer`` empty). Decisions are kept on the item with who
made them and when; every decision is also an audit event, so the record outlives any
later change to the item. Notices (the invitation, the reminder before the due date,
the escalation after it) are remembered per reviewer so each is sent once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.clock import utcnow

__all__ = ["Campaign", "CampaignItem", "CampaignNotice"]


class Campaign(SQLModel, table=True):
    """One review period ("Q1 2027"), due on a date, closed when every item is settled."""

    __tablename__ = "review_campaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    due_on: date
    started_at: datetime = Field(default_factory=utcnow)
    started_by: str = Field(max_length=200)
    closed_at: datetime | None = None


class CampaignItem(SQLModel, table=True):
    """One practice person's access to one org, as the snapshot saw it, and its decision."""

    __tablename__ = "review_campaign_item"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="review_campaign.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id", index=True)
    #: the ok scan the snapshot was taken from
    scan_id: int | None = Field(default=None, foreign_key="scan.id")
    identity: str = Field(max_length=320)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=500)
    role: str = Field(default="", max_length=100)
    finding_class: str = Field(max_length=32)
    #: who decides: a person's name as the client list writes it; empty: the practice admins
    reviewer: str = Field(default="", max_length=200, index=True)
    #: why they decide: ``client_manager``, ``partner``, ``practice_admin``, ``reassigned``
    reviewer_basis: str = Field(max_length=32)
    #: the reviewer before an escalation after the due date (empty if never escalated)
    escalated_from: str = Field(default="", max_length=200)
    escalated_at: datetime | None = None
    #: empty until decided: ``keep``, ``remove``, ``not_my_client``, ``already_gone``
    decision: str = Field(default="", max_length=16, index=True)
    reason: str = Field(default="", max_length=2000)
    decided_by: str = Field(default="", max_length=200)
    decided_at: datetime | None = None
    #: a ``remove`` decision's removal item, once planned
    removal_item_id: int | None = Field(default=None, foreign_key="removal_item.id")
    #: an ``already_gone`` decision, or a removal, confirmed by a later ok scan
    confirmed_gone_at: datetime | None = None
    confirmed_scan_id: int | None = Field(default=None, foreign_key="scan.id")


class CampaignNotice(SQLModel, table=True):
    """A notice sent to one reviewer for one campaign: each kind once per reviewer."""

    __tablename__ = "review_campaign_notice"
    __table_args__ = (UniqueConstraint("campaign_id", "reviewer", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="review_campaign.id", index=True)
    reviewer: str = Field(max_length=200)
    #: ``invitation``, ``reminder`` or ``escalation``
    kind: str = Field(max_length=16)
    recipient: str = Field(default="", max_length=320)
    sent_at: datetime = Field(default_factory=utcnow)
