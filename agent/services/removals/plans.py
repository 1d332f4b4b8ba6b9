"""Building a removal plan: a dry run of what would be removed, and what stands in the way.

A plan is asked for by person (a leaver, by name or email), by finding ids, or by
finding class (optionally one client manager's clients). Each open finding of the
selection becomes an item: the org, the user, their role, who can remove it and why,
and ``agent.reconcile.removal_policy``'s proposal with its barrier. Nothing is
changed in any portal; the plan waits for a second person's approval.

Every item is bound to the ok scan that last showed the access (``planned_scan_id``):
approval and the run re-check it when a later scan shows the org changed.

Practice admins, partners and managers propose, each for the clients in their scope;
employees read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import (
    AccessStatus,
    FindingClass,
    Portal,
    RemovalAction,
    RemovalState,
    ReviewState,
)
from agent.reconcile.identity import normalise_with
from agent.reconcile.removability import may_manage_users
from agent.reconcile.removal_policy import AccessFacts, Proposal, propose
from agent.security.audit import record
from agent.security.principal import REVIEWER_ROLES, AuthError, Principal
from agent.security.scope import client_in_scope, normalise_person_name
from agent.security.users import find_staff_member
from agent.services.reconcile_inputs import agent_identities, clients_of_orgs, seen_users_of
from agent.storage.links import client_of
from agent.storage.models import (
    Client,
    Finding,
    Observation,
    Org,
    RemovalItem,
    RemovalPlan,
    Scan,
)
from agent.storage.widths import fit

__all__ = ["PlanRequest", "RemovalError", "latest_ok_scan", "plan_removals"]


class RemovalError(ValueError):
    """A removal action that cannot be taken; the message says why."""


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What to plan: exactly one of ``person``, ``finding_ids`` or ``finding_class``."""

    person: str | None = None
    finding_ids: Sequence[int] = ()
    finding_class: FindingClass | None = None
    #: with ``finding_class``: only the clients this person manages
    manager: str | None = None
    note: str = ""

    def describe(self) -> str:
        if self.person is not None:
            return f"person {self.person}"
        if self.finding_ids:
            return "findings " + ", ".join(str(i) for i in self.finding_ids)
        text = f"class {self.finding_class}"
        return text + (f", manager {self.manager}" if self.manager else "")


@dataclass(slots=True)
class _OrgState:
    """What an org's last ok scan says about who manages its users, as the plan grows,
    and the portal ids of the users its scans showed (by scan, then identity)."""

    managers: set[str] = field(default_factory=set)
    user_ids: dict[int, dict[str, str | None]] = field(default_factory=dict)


def plan_removals(
    session: Session, principal: Principal, request: PlanRequest, *, at: datetime | None = None
) -> RemovalPlan:
    """A new plan (flushed, with its items) for ``request``; refused with a reason if it
    names nothing, something unknown, or clients outside the proposer's scope."""
    if principal.role not in REVIEWER_ROLES:
        raise RemovalError(
            f"{principal.name} is {principal.role.value.replace('_', ' ')}: only practice "
            "admins, partners and managers propose removals"
        )
    chosen = [
        request.person is not None,
        bool(request.finding_ids),
        request.finding_class is not None,
    ]
    if sum(chosen) != 1:
        raise RemovalError("say what to plan: one of a person, finding ids, or a finding class")
    if request.manager is not None and request.finding_class is None:
        raise RemovalError("--manager narrows a plan by class; give --class too")
    findings = _select(session, principal, request)
    if not findings:
        raise RemovalError(f"nothing to plan: no open finding for {request.describe()}")
    now = at or utcnow()
    plan = RemovalPlan(
        created_at=now,
        proposed_by=fit(principal.actor, RemovalPlan.proposed_by),
        proposed_by_user_id=principal.user_id,
        scope=fit(request.describe(), RemovalPlan.scope),
        note=fit(request.note, RemovalPlan.note),
    )
    session.add(plan)
    session.flush()
    assert plan.id is not None
    agents = agent_identities(session)
    orgs = org_states(session, {f.org_id for f in findings}, agents)
    counts: dict[str, int] = {}
    for finding in findings:
        item = _item(session, plan.id, finding, agents, orgs, now)
        session.add(item)
        counts[item.state] = counts.get(item.state, 0) + 1
    record(
        session,
        actor=principal.actor,
        action="removal.planned",
        detail={"plan_id": plan.id, "scope": plan.scope, "items": counts},
    )
    session.flush()
    return plan


def latest_ok_scan(session: Session, org_id: int) -> Scan | None:
    """The org's latest ok scan by the agent: the only kind that proves who is there."""
    return session.exec(
        select(Scan)
        .where(Scan.org_id == org_id, Scan.status == "ok", Scan.source == "agent")
        .order_by(col(Scan.finished_at).desc(), col(Scan.id).desc())
        .limit(1)
    ).first()


def access_facts(finding: Finding, *, agents: frozenset[str], managers: set[str]) -> AccessFacts:
    """The facts ``propose`` judges, for a finding, against ``managers`` (the identities
    that may still manage the org's users, the plan's earlier removals taken out)."""
    manages = finding.identity in managers
    return AccessFacts(
        finding_class=FindingClass(finding.finding_class),
        removable_by=finding.removable_by,
        removable_reason=finding.removable_reason,
        is_agent_login=finding.identity in agents,
        marked_for_removal=finding.review_state == ReviewState.REMOVAL_REQUESTED,
        manages_users=manages,
        other_managers=len(managers - {finding.identity}),
        is_access=finding.access_status in (AccessStatus.ACTIVE, AccessStatus.PENDING),
    )


def latest_ok_scans(session: Session, org_ids: Collection[int]) -> dict[int, Scan]:
    """Each org's latest ok agent scan, for the orgs that have one, in two queries."""
    if not org_ids:
        return {}
    newest = (
        select(func.max(Scan.id))
        .where(Scan.status == "ok", Scan.source == "agent", col(Scan.org_id).in_(list(org_ids)))
        .group_by(col(Scan.org_id))
    )
    return {s.org_id: s for s in session.exec(select(Scan).where(col(Scan.id).in_(newest)))}


def org_managers(session: Session, org: Org, agents: frozenset[str]) -> set[str]:
    """Who may manage the org's users in its latest ok scan, the agent's logins aside."""
    assert org.id is not None
    return org_states(session, {org.id}, agents)[org.id].managers


def org_states(
    session: Session, org_ids: Collection[int], agents: frozenset[str]
) -> dict[int, _OrgState]:
    """Each org's managers and its latest scan's portal user ids, read in a few queries."""
    latest = latest_ok_scans(session, org_ids)
    users = seen_users_of(session, [s.id for s in latest.values() if s.id is not None])
    states: dict[int, _OrgState] = {}
    for org_id in org_ids:
        state = states[org_id] = _OrgState()
        scan = latest.get(org_id)
        if scan is None or scan.id is None:
            continue
        org = session.get(Org, org_id)
        assert org is not None
        portal = Portal(org.portal)
        seen = users.get(scan.id, [])
        state.user_ids[scan.id] = {normalise_with(u.email): u.portal_user_id for u in seen}
        state.managers = {
            identity
            for user in seen
            if user.status in (AccessStatus.ACTIVE, AccessStatus.PENDING)
            and may_manage_users(portal, user)
            and (identity := normalise_with(user.email)) not in agents
        }
    return states


def state_for(proposal: Proposal) -> RemovalState:
    if proposal.barrier:
        return RemovalState.BLOCKED
    if proposal.action is RemovalAction.NONE:
        return RemovalState.SKIPPED
    return RemovalState.PLANNED


def _item(
    session: Session,
    plan_id: int,
    finding: Finding,
    agents: frozenset[str],
    orgs: dict[int, _OrgState],
    now: datetime,
) -> RemovalItem:
    """One finding's item, judged against its org's state (updated as the plan grows)."""
    assert finding.id is not None
    base = RemovalItem(
        plan_id=plan_id,
        finding_id=finding.id,
        org_id=finding.org_id,
        identity=finding.identity,
        email=finding.email,
        name=finding.name,
        role=finding.role,
        finding_class=finding.finding_class,
        removable_by=finding.removable_by,
        removable_reason=finding.removable_reason,
        planned_scan_id=finding.last_scan_id,
        action=RemovalAction.NONE,
        state=RemovalState.SKIPPED,
        updated_at=now,
    )
    if finding.resolved_at is not None:
        base.detail = (
            f"finding {finding.id} is no longer open: the access was gone in a scan on "
            f"{finding.resolved_at:%Y-%m-%d}"
        )
        return base
    state = orgs[finding.org_id]
    proposal = propose(access_facts(finding, agents=agents, managers=state.managers))
    base.action = proposal.action
    base.barrier = fit(proposal.barrier, RemovalItem.barrier)
    base.detail = proposal.skip
    base.state = state_for(proposal)
    base.portal_user_id = _portal_user_id(session, finding, state.user_ids)
    if proposal.action is RemovalAction.REMOVE:
        state.managers.discard(finding.identity)
    return base


def _portal_user_id(
    session: Session, finding: Finding, ids_by_scan: dict[int, dict[str, str | None]]
) -> str | None:
    """The portal's own id of the user, as the scan that last showed them read it (each
    scan's ids read once per plan: a plan holds many people of one org)."""
    scan_id = finding.last_scan_id
    if scan_id is None:
        return None
    ids = ids_by_scan.get(scan_id)
    if ids is None:
        ids = ids_by_scan[scan_id] = {
            normalise_with(email): user_id
            for email, user_id in session.exec(
                select(Observation.email, Observation.portal_user_id).where(
                    Observation.scan_id == scan_id
                )
            )
        }
    return ids.get(finding.identity)


def _select(session: Session, principal: Principal, request: PlanRequest) -> list[Finding]:
    """The findings the request names that the proposer may act on, in a stable order."""
    if request.finding_ids:
        return _by_ids(session, principal, request.finding_ids)
    query = select(Finding).where(col(Finding.resolved_at).is_(None))
    if request.person is not None:
        try:
            staff = find_staff_member(session, request.person)
        except AuthError as exc:
            raise RemovalError(str(exc)) from None
        query = query.where(Finding.staff_id == staff.id)
    else:
        query = query.where(Finding.finding_class == str(request.finding_class))
    wanted_manager = normalise_person_name(request.manager) if request.manager else None
    chosen: list[Finding] = []
    rows = list(session.exec(query.order_by(col(Finding.org_id), col(Finding.id))))
    _prefetch_clients(session, {f.org_id for f in rows})
    for finding in rows:
        client = _client(session, finding)
        if wanted_manager is not None and (
            client is None or normalise_person_name(client.client_manager) != wanted_manager
        ):
            continue
        if client_in_scope(session, principal, client):
            chosen.append(finding)
    return chosen


def _by_ids(session: Session, principal: Principal, ids: Iterable[int]) -> list[Finding]:
    unique = list(dict.fromkeys(ids))
    found = {
        f.id: f for f in session.exec(select(Finding).where(col(Finding.id).in_(unique))).all()
    }
    _prefetch_clients(session, {f.org_id for f in found.values()})
    missing = [i for i in unique if i not in found]
    if missing:
        raise RemovalError("no finding " + ", ".join(str(i) for i in missing))
    outside = [
        i for i in unique if not client_in_scope(session, principal, _client(session, found[i]))
    ]
    if outside:
        raise RemovalError("findings outside your clients: " + ", ".join(str(i) for i in outside))
    return [found[i] for i in unique]


def _prefetch_clients(session: Session, org_ids: Collection[int]) -> None:
    """Fill ``_client``'s cache for many orgs in one query."""
    cache: dict[int, Client | None] = session.info.setdefault("removal_plan_clients", {})
    wanted = [o for o in org_ids if o not in cache]
    found = clients_of_orgs(session, wanted)
    for org_id in wanted:
        cache[org_id] = found.get(org_id)


def _client(session: Session, finding: Finding) -> Client | None:
    """The finding's client, looked up once per org for the whole transaction."""
    cache: dict[int, Client | None] = session.info.setdefault("removal_plan_clients", {})
    if finding.org_id not in cache:
        org = session.get(Org, finding.org_id)
        assert org is not None
        cache[finding.org_id] = client_of(session, org.portal, org.portal_org_id)
    return cache[finding.org_id]
