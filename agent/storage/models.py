"""The database tables: DESIGN.md's glossary, one table per term.

Table models are storage only; the API and the reports have their own shapes.
Scans, observations and audit events are append-only: nothing in the product
updates or deletes them. Secrets (passwords, TOTP secrets, browser storage state)
are stored only as ciphertext, by ``agent.security.secrets``.

Every change to these classes needs an Alembic migration in
``agent/storage/migrations/versions``; a test compares the migrated schema with
these models so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime

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


class Client(SQLModel, table=True):
    """The practice's own client record, from its practice manager export."""

    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, max_length=200)
    name: str = Field(max_length=500)
    client_manager: str = Field(default="", max_length=200, index=True)
    job_manager: str = Field(default="", max_length=200)
    partner: str = Field(default="", max_length=200)
    annual_fee: float | None = None
    archived: bool = False
    contact_email: str = Field(default="", max_length=320)


class ClientOrgLink(SQLModel, table=True):
    """A client's link to a portal org, by the portal's own id.

    Kept apart from ``org`` because the client list is usually imported before the
    first crawl has seen the org.
    """

    __tablename__ = "client_org_link"
    __table_args__ = (UniqueConstraint("portal", "portal_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    portal: str = Field(max_length=16)
    portal_org_id: str = Field(max_length=64)


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


class Staff(SQLModel, table=True):
    """A roster member of the practice."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    status: str = Field(max_length=16)
    left_on: date | None = None
    practice_role: str = Field(default="", max_length=100)
    #: the practice's own title for the person, as the roster wrote it ("Senior accountant")
    job_title: str = Field(default="", max_length=200)


class StaffEmail(SQLModel, table=True):
    """One of a staff member's addresses, stored normalised (see agent.reconcile.identity)."""

    __tablename__ = "staff_email"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    email: str = Field(unique=True, max_length=320)
    is_primary: bool = False


class IntendedAccess(SQLModel, table=True):
    """Access the practice itself granted a staff member to an org."""

    __tablename__ = "intended_access"
    __table_args__ = (UniqueConstraint("staff_id", "portal", "portal_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    portal: str = Field(max_length=16)
    portal_org_id: str = Field(max_length=64)
    role: str = Field(max_length=100)
    extra_permissions: list[str] = Field(default_factory=list, sa_column=Column(JSON))


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
    extra_permissions: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    status: str = Field(max_length=16)
    kind: str | None = Field(default=None, max_length=32)
    last_login: datetime | None = None


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
    extra_permissions: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    access_status: str = Field(default="active", max_length=16)
    intended_role: str | None = Field(default=None, max_length=100)
    #: who can take the access away: "practice" (it granted it or holds Manage users) or "client"
    removable_by: str = Field(default="client", max_length=16)
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


class AuditEvent(SQLModel, table=True):
    """Who did what, when. Append-only."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    detail: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON))


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


class AppUser(SQLModel, table=True):
    """A person who may use the local API, with a practice role and a client scope.

    ``scope`` is ``all``, ``selected`` (the clients listed in ``app_user_client``) or
    ``managed`` (clients whose client manager is this user's name or the name of the
    staff member they are linked to); ``agent.security.auth`` resolves it on every request.
    """

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    role: str = Field(max_length=32)
    scope: str = Field(max_length=16)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class AppUserClient(SQLModel, table=True):
    """One client in a ``selected`` scope."""

    __tablename__ = "app_user_client"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    client_id: int = Field(foreign_key="client.id", index=True)


class ApiToken(SQLModel, table=True):
    """A bearer token obtained by pairing; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class PairingCode(SQLModel, table=True):
    """A short one-time code that a person exchanges for a token; expiring, attempt-limited."""

    __tablename__ = "pairing_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    code_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None
    token_id: int | None = Field(default=None, foreign_key="api_token.id")


class KeyCanary(SQLModel, table=True):
    """A known value encrypted with the secret key, so a wrong key is caught at start-up."""

    __tablename__ = "key_canary"

    id: int | None = Field(default=None, primary_key=True)
    canary_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


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


#: APScheduler's job store (agent.crawl.scheduling), declared here so that a migration,
#: like for every other table, creates it; the columns are APScheduler's own.
scheduled_job = Table(
    "scheduled_job",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


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


class DashboardSession(SQLModel, table=True):
    """A browser signed in to the dashboard; only the SHA-256 of its cookie is stored.

    Signing in exchanges a pairing code (``agent.security.auth``) for an API token whose value
    is thrown away: the session stands on that token, so revoking the token (or
    removing the user, which deletes it) ends the session on the next request, and
    the token list shows every signed-in browser.
    """

    __tablename__ = "dashboard_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(unique=True, max_length=64)
    token_id: int = Field(foreign_key="api_token.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
