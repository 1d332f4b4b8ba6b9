"""Four eyes: a second person approves a plan before anything is removed.

Practice admins and partners approve; whoever proposed a plan cannot approve it,
unless the practice has a single practice admin, says so in the
``single_admin_self_approval`` setting, and the approver is that admin (the audit
event says so). Approving an item that the practice removes makes it ``approved``
for ``remove run``; approving a client-only item asks the client (a
``ClientRequest``). Either way the finding's review state becomes
``removal_requested``, so the next ok scan without the access verifies it.

An item whose org has been scanned since it was planned is re-checked against the
finding as that scan left it: gone already, no longer the practice's to remove, or
now behind a barrier. Approving twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import RemovalAction, RemovalState, ReviewState
from agent.imports import PracticeRole
from agent.reconcile.removal_policy import propose
from agent.security.audit import record
from agent.security.principal import Principal
from agent.security.scope import client_in_scope
from agent.services.reconcile_inputs import agent_identities, clients_of_orgs
from agent.services.removals.client_requests import open_request
from agent.services.removals.plans import (
    RemovalError,
    access_facts,
    latest_ok_scan,
    latest_ok_scans,
    org_managers,
    state_for,
)
from agent.services.review import record_transition
from agent.settings import Settings
from agent.storage.models import AppUser, Finding, Org, RemovalItem, RemovalPlan, Scan
from agent.storage.widths import fit

__all__ = ["APPROVER_ROLES", "Approval", "approve_plan"]

APPROVER_ROLES = frozenset({PracticeRole.PRACTICE_ADMIN, PracticeRole.PARTNER})

#: review states from which an approval may move a finding to removal_requested
_REQUESTABLE = frozenset({ReviewState.OPEN, ReviewState.ACKNOWLEDGED, ReviewState.ACCEPTED_RISK})


@dataclass(slots=True)
class Approval:
    plan_id: int
    approved: list[int] = field(default_factory=list)
    requested: list[int] = field(default_factory=list)
    #: items left as they were, with why (already approved, blocked, re-checked away)
    unchanged: list[tuple[int, str]] = field(default_factory=list)
    self_approved: bool = False


def approve_plan(
    session: Session,
    principal: Principal,
    plan_id: int,
    *,
    settings: Settings,
    item_ids: Sequence[int] = (),
    at: datetime | None = None,
) -> Approval:
    """Approve a plan's planned items (or only ``item_ids``); see the module docstring."""
    plan = session.get(RemovalPlan, plan_id)
    if plan is None:
        raise RemovalError(f"no removal plan {plan_id}")
    if principal.role not in APPROVER_ROLES:
        raise RemovalError(
            f"{principal.name} is {principal.role.value.replace('_', ' ')}: only practice "
            "admins and partners approve removals"
        )
    self_approved = plan.proposed_by_user_id == principal.user_id
    if self_approved and not _sole_admin_may_self_approve(session, principal, settings):
        raise RemovalError(
            f"plan {plan_id} was proposed by {principal.name}: a second person must approve it"
        )
    items = list(
        session.exec(
            select(RemovalItem)
            .where(RemovalItem.plan_id == plan_id)
            .order_by(col(RemovalItem.id))
            .with_for_update()
        )
    )
    if item_ids:
        known = {i.id for i in items}
        unknown = [i for i in dict.fromkeys(item_ids) if i not in known]
        if unknown:
            raise RemovalError(f"plan {plan_id} has no item " + ", ".join(str(i) for i in unknown))
        wanted = set(item_ids)
        items = [i for i in items if i.id in wanted]
    _check_scope(session, principal, items)
    org_ids = {i.org_id for i in items}
    latest = latest_ok_scans(session, org_ids)
    session.info["removal_latest_scans"] = {o: latest.get(o) for o in org_ids}
    # the items' findings, held here so that the session keeps them for the loop below
    findings = list(
        session.exec(
            select(Finding).where(
                col(Finding.id).in_([i.finding_id for i in items if i.finding_id])
            )
        )
    )
    now = at or utcnow()
    result = Approval(plan_id=plan_id, self_approved=self_approved)
    agents = agent_identities(session)
    for item in items:
        assert item.id is not None
        if item.state != RemovalState.PLANNED:
            result.unchanged.append((item.id, f"already {item.state}"))
            continue
        _recheck(session, item, agents)
        if item.state != RemovalState.PLANNED:
            result.unchanged.append((item.id, item.barrier or item.detail or item.state))
            session.add(item)
            continue
        item.approved_by = fit(principal.actor, RemovalItem.approved_by)
        item.approved_at = now
        item.updated_at = now
        if item.action == RemovalAction.REMOVE:
            item.state = RemovalState.APPROVED
            result.approved.append(item.id)
        else:
            item.state = RemovalState.REQUESTED
            open_request(session, item, requested_by=principal.actor, at=now)
            result.requested.append(item.id)
        session.add(item)
        _mark_finding(session, item, principal.actor, plan_id)
    record(
        session,
        actor=principal.actor,
        action="removal.approved",
        detail={
            "plan_id": plan_id,
            "approved": result.approved,
            "requested_from_client": result.requested,
            "unchanged": [i for i, _ in result.unchanged],
            "self_approved_as_sole_admin": self_approved,
        },
    )
    session.flush()
    del findings
    return result


def _recheck(session: Session, item: RemovalItem, agents: frozenset[str]) -> None:
    """Re-judge an item whose org has a newer ok scan than the one it was planned from."""
    latest: dict[int, Scan | None] = session.info.setdefault("removal_latest_scans", {})
    if item.org_id not in latest:
        latest[item.org_id] = latest_ok_scan(session, item.org_id)
    scan = latest[item.org_id]
    if scan is None or scan.id == item.planned_scan_id:
        return
    finding = session.get(Finding, item.finding_id) if item.finding_id else None
    if finding is None:
        return
    if finding.resolved_at is not None:
        item.state = RemovalState.SKIPPED
        item.action = RemovalAction.NONE
        item.detail = f"no longer in the org: scan #{scan.id} did not show the access"
        item.planned_scan_id = scan.id
        return
    org = session.get(Org, item.org_id)
    assert org is not None
    managers = org_managers(session, org, agents)
    decided = propose(access_facts(finding, agents=agents, managers=managers))
    item.removable_by = finding.removable_by
    item.removable_reason = finding.removable_reason
    item.action = decided.action
    item.barrier = fit(decided.barrier, RemovalItem.barrier)
    item.detail = decided.skip or f"re-checked against scan #{scan.id}"
    item.state = state_for(decided)
    item.planned_scan_id = scan.id


def _mark_finding(session: Session, item: RemovalItem, actor: str, plan_id: int) -> None:
    finding = session.get(Finding, item.finding_id) if item.finding_id else None
    if finding is None or finding.resolved_at is not None:
        return
    if ReviewState(finding.review_state) in _REQUESTABLE:
        record_transition(
            session,
            finding,
            ReviewState.REMOVAL_REQUESTED,
            actor=actor,
            reason=f"approved in removal plan {plan_id}",
        )


def _check_scope(session: Session, principal: Principal, items: list[RemovalItem]) -> None:
    org_ids = sorted({i.org_id for i in items})
    clients = clients_of_orgs(session, org_ids)
    allowed = {o: client_in_scope(session, principal, clients.get(o)) for o in org_ids}
    outside = [i.id for i in items if not allowed[i.org_id] and i.id is not None]
    if outside:
        raise RemovalError(
            "items on clients outside your scope: " + ", ".join(str(i) for i in outside)
        )


def _sole_admin_may_self_approve(
    session: Session, principal: Principal, settings: Settings
) -> bool:
    if not settings.single_admin_self_approval or not principal.is_admin:
        return False
    admins = session.exec(
        select(func.count()).select_from(AppUser).where(AppUser.role == "practice_admin")
    ).one()
    return int(admins) == 1
