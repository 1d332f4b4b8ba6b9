"""What reconciling the two makes: findings, and what people and alerts did with them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.clock import utcnow
from agent.storage.models.defaults import no_permissions

__all__ = [
    "AlertSent",
    "Finding",
    "FindingReview",
    "MatchCandidate",
    "MatchDecision",
    "OrgReconcile",
]


class Finding(SQLModel, table=True):
    """The reconciled state of one (org, identity) over time."""

    __tablename__ = "finding"
    __table_args__ = (UniqueConstraint("org_id", "identity"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)
    identity: str = Field(max_length=320)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    finding_class: str = Field(max_length=32, index=True)
    severity: str = Field(max_length=16)
    email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=500)
    role: str = Field(default="", max_length=100)
    extra_permissions: list[str] = Field(default_factory=no_permissions, sa_column=Column(JSON))
    access_status: str = Field(default="active", max_length=16)
    intended_role: str | None = Field(default=None, max_length=100)
    #: who can take the access away, as the scan that showed it says: "practice" (the
    #: agent's login there may remove the person) or "client"
    removable_by: str = Field(default="client", max_length=16)
    #: why only the client can ("subscriber", "agent lacks Manage users"...); "" for practice
    removable_reason: str = Field(default="", max_length=200)
    detail: str = Field(default="", max_length=2000)
    first_seen_at: datetime
    last_seen_at: datetime
    first_scan_id: int | None = Field(default=None, foreign_key="scan.id")
    last_scan_id: int | None = Field(default=None, foreign_key="scan.id")
    resolved_at: datetime | None = None
    review_state: str = Field(default="open", max_length=32)
    #: a passive capture did not show the access on this date; only an agent scan
    #: may resolve it, so the finding stays open, awaiting one
    capture_missing_at: datetime | None = None


class MatchDecision(SQLModel, table=True):
    """A person's verdict on whether an address is a staff member's; applies to every later run.

    ``confirmed`` makes the address an alias of the staff member, kept apart from
    ``staff_email`` so that re-importing the roster does not drop it; ``rejected``
    stops that staff member being proposed for the address again. The foreign key
    keeps a staff member with decisions from being deleted by a roster import (they
    are kept and marked left instead), so an id is never reused for someone else.
    """

    __tablename__ = "match_decision"
    __table_args__ = (UniqueConstraint("identity", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(max_length=320, index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    decision: str = Field(max_length=16)  # confirmed | rejected
    decided_by: str = Field(max_length=200)
    decided_at: datetime = Field(default_factory=utcnow)
    note: str = Field(default="", max_length=2000)


class MatchCandidate(SQLModel, table=True):
    """A staff member a probable match's name resembles, as of the finding's last scan.

    ``staff_id`` has no foreign key on purpose: a proposal must not keep a person
    on the roster; ``staff_name`` is checked again when someone confirms.
    """

    __tablename__ = "match_candidate"
    __table_args__ = (UniqueConstraint("finding_id", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    staff_id: int
    staff_name: str = Field(max_length=200)
    score: float


class FindingReview(SQLModel, table=True):
    """One change of a finding's review state: who, when, why. Append-only."""

    __tablename__ = "finding_review"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=200)
    from_state: str = Field(max_length=32)
    to_state: str = Field(max_length=32)
    reason: str = Field(default="", max_length=2000)
    expires_on: date | None = None


class OrgReconcile(SQLModel, table=True):
    """How far an org's findings have been brought: the last ok scan applied to them."""

    __tablename__ = "org_reconcile"

    org_id: int = Field(foreign_key="org.id", primary_key=True)
    last_scan_id: int | None = Field(default=None, foreign_key="scan.id")
    reconciled_at: datetime = Field(default_factory=utcnow)


class AlertSent(SQLModel, table=True):
    """A finding already alerted on a channel, so no finding is alerted twice.

    Keyed by the finding's episode (its first-seen time): access that went and came
    back is new, and alerted again.
    """

    __tablename__ = "alert_sent"
    __table_args__ = (UniqueConstraint("finding_id", "channel", "episode"),)

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    channel: str = Field(max_length=16)
    episode: datetime
    recipient: str = Field(default="", max_length=320)
    sent_at: datetime = Field(default_factory=utcnow)
