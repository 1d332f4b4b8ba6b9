"""Acting on findings: removal plans, their items, and what the practice asked clients.

A plan is a dry run until a second person approves it; each item is bound to the ok
scan it was planned from, so a later scan that shows the org changed re-checks it.
Items move through ``agent.domain.RemovalState``; every move is also an audit event.
A client request tracks an access only the client can remove, from the day the
practice asked until a scan shows it gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from agent.clock import utcnow

__all__ = ["ClientRequest", "RemovalItem", "RemovalPlan"]


class RemovalPlan(SQLModel, table=True):
    """What someone proposed to remove, as one reviewable unit."""

    __tablename__ = "removal_plan"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    #: the audit name of the proposer, and their API user id (four eyes compares ids)
    proposed_by: str = Field(max_length=200)
    proposed_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    #: how the plan was asked for: "person Jane Doe", "findings 3, 9", "class leaver_access"
    scope: str = Field(default="", max_length=500)
    note: str = Field(default="", max_length=2000)
    #: a run asked for from the API or the dashboard, for the worker to carry out
    run_requested_at: datetime | None = None
    run_requested_by: str = Field(default="", max_length=200)


class RemovalItem(SQLModel, table=True):
    """One (org, user) of a plan: who can remove it, what is proposed, where it stands."""

    __tablename__ = "removal_item"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="removal_plan.id", index=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    identity: str = Field(max_length=320)
    email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=500)
    role: str = Field(default="", max_length=100)
    finding_class: str = Field(default="", max_length=32)
    portal_user_id: str | None = Field(default=None, max_length=64)
    #: "practice" or "client", and why the client, as the scan showed it
    removable_by: str = Field(default="client", max_length=16)
    removable_reason: str = Field(default="", max_length=200)
    action: str = Field(max_length=16)
    #: why the item may not be carried out ("" when nothing stands in the way)
    barrier: str = Field(default="", max_length=200)
    #: the ok scan the item was planned (or last re-checked) from
    planned_scan_id: int | None = Field(default=None, foreign_key="scan.id")
    state: str = Field(max_length=16, index=True)
    approved_by: str = Field(default="", max_length=200)
    approved_at: datetime | None = None
    #: a ``remove run`` holds the item from ``claimed_at`` under ``claim_token``
    claim_token: str = Field(default="", max_length=32)
    claimed_at: datetime | None = None
    attempts: int = 0
    detail: str = Field(default="", max_length=2000)
    removed_at: datetime | None = None
    verified_at: datetime | None = None
    verified_scan_id: int | None = Field(default=None, foreign_key="scan.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ClientRequest(SQLModel, table=True):
    """An access the practice asked the client to remove, tracked until a scan shows it gone."""

    __tablename__ = "client_request"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="removal_item.id", index=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id")
    identity: str = Field(max_length=320)
    email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=500)
    #: why the practice wants it gone, and why the client must do it
    why_remove: str = Field(default="", max_length=500)
    why_client: str = Field(default="", max_length=200)
    requested_by: str = Field(max_length=200)
    requested_at: datetime = Field(default_factory=utcnow)
    reminded_at: datetime | None = None
    seen_removed_at: datetime | None = None
    seen_removed_scan_id: int | None = Field(default=None, foreign_key="scan.id")
