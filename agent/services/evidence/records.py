"""What an evidence pack holds for a period: each kind of record, and the query that reads it.

The kinds, in the pack's (and the chain's) order: scans (outcome, reason, the count
the portal stated, the rows read), the users each scan saw, sign-in attempts,
findings with their review history, review campaigns and their items, removal plans
and their items (approvals, removals, verifications), requests to clients, and from
the audit log the imports (file SHA-256, row counts), the exports and every other
event (``agent.services.evidence.kinds`` says how each is read).

Which rows a period (its days inclusive, UTC) takes:

* append-only events (scans, observations of those scans, sign-ins, review changes,
  audit events) — those that happened in it;
* things with a life (findings, campaigns, removal plans, client requests) — those
  alive at some time in it: begun before its end and not ended before its start.
  Their rows show their state when the pack is built; how they got there is in the
  review changes and the audit events.

A scan row keeps no version of the scraper that read it: each scan record names its
portal and source, and ``product_version`` is the version of the product that built
the pack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, or_
from sqlmodel import col, select

from agent.services.evidence.kinds import Query, RecordKind, alive_in, happened_in, make_kind
from agent.services.evidence.period import Period
from agent.services.evidence.shapes import Value
from agent.storage.links import join_client
from agent.storage.models import (
    AuditEvent,
    Campaign,
    CampaignItem,
    Client,
    ClientRequest,
    Finding,
    FindingReview,
    Observation,
    Org,
    PortalLogin,
    RemovalItem,
    RemovalPlan,
    Scan,
    SignInAttempt,
)

__all__ = ["KINDS", "PRODUCT_VERSION"]

try:
    PRODUCT_VERSION = version("accessrecon")
except PackageNotFoundError:  # run from a source tree that was never installed
    PRODUCT_VERSION = "unknown"


T, TN = Value.TEXT, Value.TEXT_OR_NULL
N, NN = Value.INT, Value.INT_OR_NULL
TM, TMN = Value.TIME, Value.TIME_OR_NULL

_ORG_FIELDS: dict[str, tuple[Value, Any]] = {
    "portal": (T, Org.portal),
    "portal_org_id": (T, Org.portal_org_id),
}

SCANS = make_kind(
    "scan",
    "records/01-scans.jsonl",
    {
        "id": (N, Scan.id),
        "org_id": (N, Scan.org_id),
        **_ORG_FIELDS,
        "org_name": (T, Org.name),
        "client": (TN, Client.external_id),
        "crawl_id": (NN, Scan.crawl_id),
        "login_id": (NN, Scan.login_id),
        "source": (T, Scan.source),
        "outcome": (T, Scan.status),
        "reason": (TN, Scan.reason),
        "detail": (T, Scan.detail),
        "evidence": (T, Scan.evidence),
        "portal_stated_count": (NN, Scan.reported_total),
        "rows_read": (N, Scan.user_count),
        "started_at": (TM, Scan.started_at),
        "finished_at": (TM, Scan.finished_at),
        "product_version": (T, literal(PRODUCT_VERSION)),
        #: the recipe that read the org (``qbo@2026.12.1``); none for captures and for
        #: scans recorded before recipes were
        "recipe": (TN, Scan.recipe),
    },
    lambda q, p: (
        join_client(q.select_from(Scan).join(Org, col(Org.id) == col(Scan.org_id)))
        .where(happened_in(Scan.finished_at, p))
        .order_by(col(Scan.id))
    ),
)

OBSERVATIONS = make_kind(
    "observation",
    "records/02-observations.jsonl",
    {
        "id": (N, Observation.id),
        "scan_id": (N, Observation.scan_id),
        "email": (T, Observation.email),
        "name": (T, Observation.name),
        "role": (T, Observation.role),
        "extra_permissions": (Value.TEXT_LIST, Observation.extra_permissions),
        "status": (T, Observation.status),
        "kind": (TN, Observation.kind),
        "last_login": (TMN, Observation.last_login),
        "portal_user_id": (TN, Observation.portal_user_id),
        "subscriber": (Value.BOOL, Observation.subscriber),
        "firm": (TN, Observation.firm),
        "added_by_owner": (Value.BOOL_OR_NULL, Observation.added_by_owner),
    },
    lambda q, p: (
        q.select_from(Observation)
        .join(Scan, col(Scan.id) == col(Observation.scan_id))
        .where(happened_in(Scan.finished_at, p))
        .order_by(col(Observation.id))
    ),
)

SIGN_INS = make_kind(
    "sign_in",
    "records/03-sign-ins.jsonl",
    {
        "id": (N, SignInAttempt.id),
        "login_id": (N, SignInAttempt.login_id),
        "portal": (T, PortalLogin.portal),
        "login_email": (T, PortalLogin.email),
        "crawl_id": (NN, SignInAttempt.crawl_id),
        "at": (TM, SignInAttempt.at),
        "status": (T, SignInAttempt.status),
        "reason": (TN, SignInAttempt.reason),
        "detail": (T, SignInAttempt.detail),
    },
    lambda q, p: (
        q.select_from(SignInAttempt)
        .join(PortalLogin, col(PortalLogin.id) == col(SignInAttempt.login_id))
        .where(happened_in(SignInAttempt.at, p))
        .order_by(col(SignInAttempt.id))
    ),
)

FINDINGS = make_kind(
    "finding",
    "records/04-findings.jsonl",
    {
        "id": (N, Finding.id),
        "org_id": (N, Finding.org_id),
        **_ORG_FIELDS,
        "identity": (T, Finding.identity),
        "staff_id": (NN, Finding.staff_id),
        "class": (T, Finding.finding_class),
        "severity": (T, Finding.severity),
        "email": (T, Finding.email),
        "name": (T, Finding.name),
        "role": (T, Finding.role),
        "extra_permissions": (Value.TEXT_LIST, Finding.extra_permissions),
        "access_status": (T, Finding.access_status),
        "intended_role": (TN, Finding.intended_role),
        "removable_by": (T, Finding.removable_by),
        "removable_reason": (T, Finding.removable_reason),
        "detail": (T, Finding.detail),
        "first_seen_at": (TM, Finding.first_seen_at),
        "last_seen_at": (TM, Finding.last_seen_at),
        "first_scan_id": (NN, Finding.first_scan_id),
        "last_scan_id": (NN, Finding.last_scan_id),
        "resolved_at": (TMN, Finding.resolved_at),
        "review_state": (T, Finding.review_state),
        "capture_missing_at": (TMN, Finding.capture_missing_at),
    },
    lambda q, p: (
        q.select_from(Finding)
        .join(Org, col(Org.id) == col(Finding.org_id))
        .where(alive_in(Finding.first_seen_at, Finding.resolved_at, p))
        .order_by(col(Finding.id))
    ),
)

FINDING_REVIEWS = make_kind(
    "finding_review",
    "records/05-finding-reviews.jsonl",
    {
        "id": (N, FindingReview.id),
        "finding_id": (N, FindingReview.finding_id),
        "at": (TM, FindingReview.at),
        "actor": (T, FindingReview.actor),
        "from_state": (T, FindingReview.from_state),
        "to_state": (T, FindingReview.to_state),
        "reason": (T, FindingReview.reason),
        "expires_on": (Value.DATE_OR_NULL, FindingReview.expires_on),
    },
    lambda q, p: q.where(happened_in(FindingReview.at, p)).order_by(col(FindingReview.id)),
)


def _campaigns_alive(period: Period) -> ColumnElement[bool]:
    return alive_in(Campaign.started_at, Campaign.closed_at, period)


CAMPAIGNS = make_kind(
    "campaign",
    "records/06-campaigns.jsonl",
    {
        "id": (N, Campaign.id),
        "name": (T, Campaign.name),
        "due_on": (Value.DATE_OR_NULL, Campaign.due_on),
        "started_at": (TM, Campaign.started_at),
        "started_by": (T, Campaign.started_by),
        "closed_at": (TMN, Campaign.closed_at),
    },
    lambda q, p: q.where(_campaigns_alive(p)).order_by(col(Campaign.id)),
)

CAMPAIGN_ITEMS = make_kind(
    "campaign_item",
    "records/07-campaign-items.jsonl",
    {
        "id": (N, CampaignItem.id),
        "campaign_id": (N, CampaignItem.campaign_id),
        "org_id": (N, CampaignItem.org_id),
        **_ORG_FIELDS,
        "client_id": (NN, CampaignItem.client_id),
        "finding_id": (NN, CampaignItem.finding_id),
        "scan_id": (NN, CampaignItem.scan_id),
        "identity": (T, CampaignItem.identity),
        "staff_id": (NN, CampaignItem.staff_id),
        "email": (T, CampaignItem.email),
        "name": (T, CampaignItem.name),
        "role": (T, CampaignItem.role),
        "class": (T, CampaignItem.finding_class),
        "reviewer": (T, CampaignItem.reviewer),
        "reviewer_basis": (T, CampaignItem.reviewer_basis),
        "escalated_from": (T, CampaignItem.escalated_from),
        "escalated_at": (TMN, CampaignItem.escalated_at),
        "decision": (T, CampaignItem.decision),
        "reason": (T, CampaignItem.reason),
        "decided_by": (T, CampaignItem.decided_by),
        "decided_at": (TMN, CampaignItem.decided_at),
        "removal_item_id": (NN, CampaignItem.removal_item_id),
        "confirmed_gone_at": (TMN, CampaignItem.confirmed_gone_at),
        "confirmed_scan_id": (NN, CampaignItem.confirmed_scan_id),
    },
    lambda q, p: (
        q.select_from(CampaignItem)
        .join(Campaign, col(Campaign.id) == col(CampaignItem.campaign_id))
        .join(Org, col(Org.id) == col(CampaignItem.org_id))
        .where(_campaigns_alive(p))
        .order_by(col(CampaignItem.id))
    ),
)


def _plans_alive(period: Period) -> ColumnElement[bool]:
    """Plans made before the period ended that were made, or moved, in it or since."""
    item = RemovalItem.__table__.alias("moved_item")  # type: ignore[attr-defined]
    moved = exists(
        select(item.c.id).where(
            item.c.plan_id == col(RemovalPlan.id), item.c.updated_at >= period.begins
        )
    )
    return and_(
        col(RemovalPlan.created_at) < period.ends,
        or_(col(RemovalPlan.created_at) >= period.begins, moved),
    )


REMOVAL_PLANS = make_kind(
    "removal_plan",
    "records/08-removal-plans.jsonl",
    {
        "id": (N, RemovalPlan.id),
        "created_at": (TM, RemovalPlan.created_at),
        "proposed_by": (T, RemovalPlan.proposed_by),
        "proposed_by_user_id": (NN, RemovalPlan.proposed_by_user_id),
        "scope": (T, RemovalPlan.scope),
        "note": (T, RemovalPlan.note),
        "run_requested_at": (TMN, RemovalPlan.run_requested_at),
        "run_requested_by": (T, RemovalPlan.run_requested_by),
    },
    lambda q, p: q.where(_plans_alive(p)).order_by(col(RemovalPlan.id)),
)

REMOVAL_ITEMS = make_kind(
    "removal_item",
    "records/09-removal-items.jsonl",
    {
        "id": (N, RemovalItem.id),
        "plan_id": (N, RemovalItem.plan_id),
        "finding_id": (NN, RemovalItem.finding_id),
        "org_id": (N, RemovalItem.org_id),
        **_ORG_FIELDS,
        "identity": (T, RemovalItem.identity),
        "email": (T, RemovalItem.email),
        "name": (T, RemovalItem.name),
        "role": (T, RemovalItem.role),
        "class": (T, RemovalItem.finding_class),
        "portal_user_id": (TN, RemovalItem.portal_user_id),
        "removable_by": (T, RemovalItem.removable_by),
        "removable_reason": (T, RemovalItem.removable_reason),
        "action": (T, RemovalItem.action),
        "barrier": (T, RemovalItem.barrier),
        "planned_scan_id": (NN, RemovalItem.planned_scan_id),
        "state": (T, RemovalItem.state),
        "approved_by": (T, RemovalItem.approved_by),
        "approved_at": (TMN, RemovalItem.approved_at),
        "attempts": (N, RemovalItem.attempts),
        "detail": (T, RemovalItem.detail),
        "removed_at": (TMN, RemovalItem.removed_at),
        "verified_at": (TMN, RemovalItem.verified_at),
        "verified_scan_id": (NN, RemovalItem.verified_scan_id),
        "updated_at": (TM, RemovalItem.updated_at),
    },
    lambda q, p: (
        q.select_from(RemovalItem)
        .join(RemovalPlan, col(RemovalPlan.id) == col(RemovalItem.plan_id))
        .join(Org, col(Org.id) == col(RemovalItem.org_id))
        .where(_plans_alive(p))
        .order_by(col(RemovalItem.id))
    ),
)

CLIENT_REQUESTS = make_kind(
    "client_request",
    "records/10-client-requests.jsonl",
    {
        "id": (N, ClientRequest.id),
        "client_id": (NN, ClientRequest.client_id),
        "org_id": (N, ClientRequest.org_id),
        **_ORG_FIELDS,
        "item_id": (NN, ClientRequest.item_id),
        "finding_id": (NN, ClientRequest.finding_id),
        "identity": (T, ClientRequest.identity),
        "email": (T, ClientRequest.email),
        "name": (T, ClientRequest.name),
        "why_remove": (T, ClientRequest.why_remove),
        "why_client": (T, ClientRequest.why_client),
        "requested_by": (T, ClientRequest.requested_by),
        "requested_at": (TM, ClientRequest.requested_at),
        "reminded_at": (TMN, ClientRequest.reminded_at),
        "seen_removed_at": (TMN, ClientRequest.seen_removed_at),
        "seen_removed_scan_id": (NN, ClientRequest.seen_removed_scan_id),
    },
    lambda q, p: (
        q.select_from(ClientRequest)
        .join(Org, col(Org.id) == col(ClientRequest.org_id))
        .where(alive_in(ClientRequest.requested_at, ClientRequest.seen_removed_at, p))
        .order_by(col(ClientRequest.id))
    ),
)

#: audit events are read by these columns only: the chain columns are the audit log's own
_AUDIT_FIELDS: dict[str, tuple[Value, Any]] = {
    "id": (N, AuditEvent.id),
    "at": (TM, AuditEvent.at),
    "actor": (T, AuditEvent.actor),
    "action": (T, AuditEvent.action),
    "detail": (Value.JSON, AuditEvent.detail),
}


def _audit(prefixes: Sequence[str], *, exclude: bool = False) -> Callable[[Query, Period], Query]:
    def narrow(query: Query, period: Period) -> Query:
        action = col(AuditEvent.action)
        matches = or_(*(action.startswith(p, autoescape=True) for p in prefixes))
        return (
            query.select_from(AuditEvent)
            .where(happened_in(AuditEvent.at, period), ~matches if exclude else matches)
            .order_by(col(AuditEvent.id))
        )

    return narrow


IMPORTS = make_kind("import", "records/11-imports.jsonl", _AUDIT_FIELDS, _audit(["import."]))
EXPORTS = make_kind("export", "records/12-exports.jsonl", _AUDIT_FIELDS, _audit(["export."]))
AUDIT = make_kind(
    "audit_event",
    "records/13-audit-events.jsonl",
    _AUDIT_FIELDS,
    _audit(["import.", "export."], exclude=True),
)

#: every kind, in the order of the pack's files and of its one chain
KINDS: tuple[RecordKind, ...] = (
    SCANS,
    OBSERVATIONS,
    SIGN_INS,
    FINDINGS,
    FINDING_REVIEWS,
    CAMPAIGNS,
    CAMPAIGN_ITEMS,
    REMOVAL_PLANS,
    REMOVAL_ITEMS,
    CLIENT_REQUESTS,
    IMPORTS,
    EXPORTS,
    AUDIT,
)
