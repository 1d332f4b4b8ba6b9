"""Where the agent looks and what it saw: portal logins, orgs, crawls, scans.

Scans and observations are append-only; a login's secrets are ciphertext
(``agent.security.secrets``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    LargeBinary,
    Table,
    Unicode,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from agent.clock import utcnow
from agent.storage.models.defaults import no_permissions

__all__ = [
    "Crawl",
    "Observation",
    "Org",
    "PortalLogin",
    "Scan",
    "ScanRequest",
    "SignInAttempt",
    "scheduled_job",
]


class PortalLogin(SQLModel, table=True):
    """A portal account the agent signs in with."""

    __tablename__ = "portal_login"
    __table_args__ = (UniqueConstraint("portal", "base_url", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    portal: str = Field(index=True, max_length=16)
    base_url: str = Field(max_length=500)
    email: str = Field(max_length=320)
    label: str = Field(default="", max_length=200)
    password_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    totp_secret_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    storage_state_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    #: the last TOTP time step whose code was handed out, by any process: a code is
    #: never sent twice (``agent.scrapers.totp`` claims steps through this column)
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    #: ``totp``: the agent signs in with the password and TOTP secret; ``interactive``:
    #: a person signs in (``accessrecon login connect``) and crawls use the browser
    #: state they left (``agent.security.logins.SignInMethod``)
    sign_in_method: str = Field(
        default="totp", max_length=16, sa_column_kwargs={"server_default": "totp"}
    )
    #: when a person last signed the login in with ``accessrecon login connect``
    connected_at: datetime | None = None
    #: since when an interactive login's stored sign-in is missing or refused, so none
    #: of its orgs can be read until a person connects it again; ``None``: it is not
    needs_sign_in_since: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SignInAttempt(SQLModel, table=True):
    """One sign-in of a login during a crawl, and how it went. Append-only.

    A login that cannot sign in has no org to hang a failed scan on (on its first
    crawl it has not even listed them), so its failure is kept here, where the
    command line, the dashboard, the evidence report and the alerts read it.
    """

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_login_at", "login_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    login_id: int = Field(foreign_key="portal_login.id")
    crawl_id: int | None = Field(default=None, foreign_key="crawl.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    status: str = Field(max_length=16)  # ok | failed
    reason: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="", max_length=2000)


class Org(SQLModel, table=True):
    """A client ledger file inside a portal, as the agent discovered it."""

    __tablename__ = "org"
    __table_args__ = (UniqueConstraint("portal", "portal_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    portal: str = Field(max_length=16)
    portal_org_id: str = Field(max_length=64)
    name: str = Field(max_length=500)
    login_id: int | None = Field(default=None, foreign_key="portal_login.id", index=True)
    viewer_role: str | None = Field(default=None, max_length=100)
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_listed_at: datetime = Field(default_factory=utcnow)


class Crawl(SQLModel, table=True):
    """One run of the agent over some logins; unfinished crawls are resumed."""

    __tablename__ = "crawl"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(default="manual", max_length=32)
    portal: str | None = Field(default=None, max_length=16)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=16, index=True)


class Scan(SQLModel, table=True):
    """One attempt to capture one org's user list. Append-only."""

    __tablename__ = "scan"
    __table_args__ = (Index("ix_scan_org_finished", "org_id", "finished_at"),)

    id: int | None = Field(default=None, primary_key=True)
    crawl_id: int | None = Field(default=None, foreign_key="crawl.id", index=True)
    org_id: int = Field(foreign_key="org.id")
    login_id: int | None = Field(default=None, foreign_key="portal_login.id")
    source: str = Field(default="agent", max_length=16)
    status: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="", max_length=2000)
    reported_total: int | None = None
    user_count: int = 0
    evidence: str = Field(default="", max_length=2000)
    #: the recipe that read the org, as ``portal@version`` plus ``(override)`` when it
    #: came from the practice's override directory; ``None`` for captures and for
    #: scans from before recipes were recorded
    recipe: str | None = Field(default=None, max_length=120)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime = Field(default_factory=utcnow)


class Observation(SQLModel, table=True):
    """One user row seen in one ok scan. Append-only."""

    __tablename__ = "observation"

    id: int | None = Field(default=None, primary_key=True)
    scan_id: int = Field(foreign_key="scan.id", index=True)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=500)
    role: str = Field(default="", max_length=100)
    extra_permissions: list[str] = Field(default_factory=no_permissions, sa_column=Column(JSON))
    status: str = Field(max_length=16)
    kind: str | None = Field(default=None, max_length=32)
    last_login: datetime | None = None
    #: the facts that decide who can remove this user (``agent.reconcile.removability``):
    #: the portal's own id for the user, Xero's subscriber, the ``Firm`` of a qbo
    #: accounting firms entry, and whether a myob advisor was added by the business owner
    #: (``None``: the portal did not say)
    portal_user_id: str | None = Field(default=None, max_length=64)
    subscriber: bool = False
    firm: str | None = Field(default=None, max_length=500)
    added_by_owner: bool | None = None


class ScanRequest(SQLModel, table=True):
    """A wish for a scan, and how it went."""

    __tablename__ = "scan_request"

    id: int | None = Field(default=None, primary_key=True)
    requested_at: datetime = Field(default_factory=utcnow, index=True)
    requested_by: str = Field(max_length=200)
    source: str = Field(default="cli", max_length=16)  # cli, api, extension, schedule
    login_id: int | None = Field(default=None, foreign_key="portal_login.id", index=True)
    portal: str | None = Field(default=None, max_length=16)
    portal_org_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="queued", max_length=16, index=True)
    crawl_id: int | None = Field(default=None, foreign_key="crawl.id")
    started_at: datetime | None = None
    finished_at: datetime | None = None
    done: int = 0
    failed: int = 0
    total: int | None = None
    detail: str = Field(default="", max_length=2000)
    #: on PostgreSQL, the procrastinate job that runs it (``agent.crawl.queue``); a job
    #: that succeeded is deleted by procrastinate, this row stays the record
    job_id: int | None = Field(default=None, sa_column=Column(BigInteger))


#: APScheduler's job store (agent.crawl.scheduling), declared here so that a migration,
#: like for every other table, creates it; the columns are APScheduler's own.
scheduled_job = Table(
    "scheduled_job",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
