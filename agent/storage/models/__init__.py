"""The database tables: DESIGN.md's glossary, one table per term.

Table models are storage only; the API and the reports have their own shapes.
Scans, observations and audit events are append-only: nothing in the product
updates or deletes them. Secrets (passwords, TOTP secrets, browser storage state)
are stored only as ciphertext, by ``agent.security.secrets``.

The tables are grouped by concept in the modules below, and every one is imported
here: this package is where the rest of the tree takes them from, and importing it
registers the whole schema on ``SQLModel.metadata``, which the migrations and the
backup need.

Every change to these classes needs an Alembic migration in
``agent/storage/migrations/versions``; a test compares the migrated schema with
these models so the two cannot drift apart.
"""

from __future__ import annotations

from agent.storage.models.budget import BudgetDeferral, RequestBudget
from agent.storage.models.campaigns import Campaign, CampaignItem, CampaignNotice
from agent.storage.models.findings import (
    AlertSent,
    Finding,
    FindingReview,
    MatchCandidate,
    MatchDecision,
    OrgReconcile,
)
from agent.storage.models.fixtures import PortalFixture
from agent.storage.models.portals import (
    Crawl,
    Observation,
    Org,
    PortalLogin,
    Scan,
    ScanRequest,
    SignInAttempt,
    scheduled_job,
)
from agent.storage.models.practice import (
    Client,
    ClientOrgLink,
    IntendedAccess,
    Staff,
    StaffEmail,
)
from agent.storage.models.removals import ClientRequest, RemovalItem, RemovalPlan
from agent.storage.models.schedules import ScheduleFiring
from agent.storage.models.security import (
    ApiToken,
    AppUser,
    AppUserClient,
    AuditChainHead,
    AuditEvent,
    DashboardSession,
    KeyCanary,
    PairingCode,
)

__all__ = [
    "AlertSent",
    "ApiToken",
    "AppUser",
    "AppUserClient",
    "AuditChainHead",
    "AuditEvent",
    "BudgetDeferral",
    "Campaign",
    "CampaignItem",
    "CampaignNotice",
    "Client",
    "ClientOrgLink",
    "ClientRequest",
    "Crawl",
    "DashboardSession",
    "Finding",
    "FindingReview",
    "IntendedAccess",
    "KeyCanary",
    "MatchCandidate",
    "MatchDecision",
    "Observation",
    "Org",
    "OrgReconcile",
    "PairingCode",
    "PortalFixture",
    "PortalLogin",
    "RemovalItem",
    "RemovalPlan",
    "RequestBudget",
    "Scan",
    "ScanRequest",
    "ScheduleFiring",
    "SignInAttempt",
    "Staff",
    "StaffEmail",
    "scheduled_job",
]
