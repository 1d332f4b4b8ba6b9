"""Planning and approving removals: barriers, proposals, scope, four eyes; no portal involved.

The states here are made through the product's own functions (an ok scan recorded,
then reconciled), so each plan is judged from findings as a crawl would leave them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, FindingClass, Portal, RemovalAction, RemovalState
from agent.reconcile.removal_policy import (
    AGENT_LOGIN,
    CLIENT_USER,
    CONFIRM_FIRST,
    FIX_ROLE,
    LAST_MANAGER,
    NOT_MARKED,
    AccessFacts,
    propose,
)
from agent.security.principal import Principal
from agent.security.users import add_user, principal_of
from agent.services.findings import reconcile
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, RemovalError, plan_removals
from agent.services.review import request_removal
from agent.services.scans import record_ok_scan, upsert_org
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, ClientRequest, Finding, RemovalItem
from tests.factories import DOMAIN, add_client, add_staff, agent_login

pytestmark = pytest.mark.database

AGENT = f"accessrecon.xero@{DOMAIN}"


def _user(email: str, role: str = "STANDARD", *extras: str, subscriber: bool = False) -> PortalUser:
    return PortalUser(
        email=email,
        name=email.split("@")[0].replace(".", " ").title(),
        role=role,
        status=AccessStatus.ACTIVE,
        extra_permissions=extras,
        portal_user_id=email.split("@")[0],
        subscriber=subscriber,
    )


def _scan(session: Session, org_id: str, users: list[PortalUser]) -> None:
    ref = OrgRef(Portal.XERO, org_id, f"Org {org_id}")
    org = upsert_org(session, ref, login_id=None)
    record_ok_scan(
        session,
        org_id=org.id,
        started_at=utcnow(),
        result=OrgUsers(ref, tuple(users), len(users), "JSON total"),
    )


@pytest.fixture
def world(engine: Engine) -> Iterator[Engine]:
    """Two xero orgs of two clients (managed by Mia and by Max). In ``!AAAAA`` the agent
    holds Manage users; in ``!BBBBB`` it does not. A leaver, an active staff member
    invited directly, a client user, the subscriber, a look-alike address."""
    with session_scope(engine) as session:
        agent_login(session, AGENT)
        add_staff(session, "Lee Leaver", f"lee@{DOMAIN}", status="left", left_on=date(2026, 1, 5))
        add_staff(session, "Ann Active", f"ann@{DOMAIN}")
        add_staff(session, "Mia Manager", f"mia@{DOMAIN}")
        add_staff(session, "Max Manager", f"max@{DOMAIN}")
        add_client(session, "Kōwhai Bakery", "Mia Manager", ("xero", "!AAAAA"))
        add_client(session, "Tōtara Tiles", "Max Manager", ("xero", "!BBBBB"))
        owner = _user("owner@kowhai.example", "STANDARD", "MANAGE_USERS", subscriber=True)
        _scan(
            session,
            "!AAAAA",
            [
                _user(AGENT, "FINANCIALADVISER", "MANAGE_USERS"),
                _user(f"lee@{DOMAIN}"),
                _user(f"ann@{DOMAIN}"),
                _user("clerk@kowhai.example"),
                owner,
                _user("ann.active@gmail.example"),
            ],
        )
        _scan(
            session,
            "!BBBBB",
            [
                _user(AGENT, "FINANCIALADVISER"),
                _user(f"lee@{DOMAIN}"),
                _user("boss@totara.example", "STANDARD", "MANAGE_USERS"),
            ],
        )
        reconcile(session, configured_domains=[DOMAIN])
        add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="test")
        add_user(session, name="Pat Partner", role="partner", scope="all", actor="test")
        add_user(session, name="Mia Manager", role="manager", scope="managed", actor="test")
        add_user(session, name="Eve Employee", role="employee", scope="all", actor="test")
    return engine


def _who(engine: Engine, name: str) -> Principal:
    with session_scope(engine) as session:
        return principal_of(session, name)


def _plan(engine: Engine, who: str, request: PlanRequest) -> tuple[int, list[RemovalItem]]:
    with session_scope(engine) as session:
        plan = plan_removals(session, _who(engine, who), request)
        assert plan.id is not None
        items = list(session.exec(select(RemovalItem).where(RemovalItem.plan_id == plan.id)))
        for item in items:
            session.expunge(item)
        return plan.id, items


def _finding(engine: Engine, email: str, org_id: str) -> int:
    with session_scope(engine) as session:
        from agent.storage.models import Org

        org = session.exec(select(Org).where(Org.portal_org_id == org_id)).one()
        finding = session.exec(
            select(Finding).where(Finding.org_id == org.id, Finding.email == email)
        ).one()
        assert finding.id is not None
        return finding.id


def test_a_leavers_plan_removes_where_the_practice_can_and_asks_the_client_elsewhere(
    world: Engine,
) -> None:
    _, items = _plan(world, "Ada Admin", PlanRequest(person=f"lee@{DOMAIN}"))
    by_org = {i.org_id: i for i in items}
    assert len(by_org) == 2
    actions = sorted((i.action, i.removable_by, i.removable_reason) for i in items)
    assert actions == [
        (RemovalAction.ASK_CLIENT, "client", "agent lacks Manage users"),
        (RemovalAction.REMOVE, "practice", ""),
    ]
    assert {i.state for i in items} == {RemovalState.PLANNED}
    assert all(i.planned_scan_id is not None for i in items)


def test_every_barrier_stops_an_item_before_any_portal_is_touched(world: Engine) -> None:
    ids = [
        _finding(world, f"ann@{DOMAIN}", "!AAAAA"),  # active staff, not marked
        _finding(world, "clerk@kowhai.example", "!AAAAA"),  # the client's own user
        _finding(world, "ann.active@gmail.example", "!AAAAA"),  # a probable match
    ]
    _, items = _plan(world, "Ada Admin", PlanRequest(finding_ids=ids))
    why = {i.finding_id: (i.state, i.barrier or i.detail) for i in items}
    assert why[ids[0]] == (RemovalState.BLOCKED, NOT_MARKED)
    assert why[ids[1]] == (RemovalState.BLOCKED, CLIENT_USER)
    assert why[ids[2]] == (RemovalState.SKIPPED, CONFIRM_FIRST)
    # nothing blocked or skipped can be approved into a run
    plan_id = items[0].plan_id
    with session_scope(world) as session:
        approval = approve_plan(session, _who(world, "Pat Partner"), plan_id, settings=Settings())
    assert approval.approved == []
    assert approval.requested == []
    assert len(approval.unchanged) == 3


def test_an_active_staff_direct_invite_is_removed_once_the_manager_marks_it(
    world: Engine,
) -> None:
    finding_id = _finding(world, f"ann@{DOMAIN}", "!AAAAA")
    with session_scope(world) as session:
        request_removal(session, finding_id, actor="Mia Manager (user #3)", reason="client asked")
    _, items = _plan(world, "Ada Admin", PlanRequest(finding_ids=[finding_id]))
    assert [(i.state, i.action) for i in items] == [(RemovalState.PLANNED, RemovalAction.REMOVE)]


def test_the_policy_table() -> None:
    base = AccessFacts(FindingClass.LEAVER_ACCESS, removable_by="practice")
    assert propose(base).action is RemovalAction.REMOVE
    assert (
        propose(AccessFacts(FindingClass.LEAVER_ACCESS, "practice", is_agent_login=True)).barrier
        == AGENT_LOGIN
    )
    assert propose(AccessFacts(FindingClass.ROLE_DRIFT, "practice")).skip == FIX_ROLE
    last = AccessFacts(FindingClass.LEAVER_ACCESS, "practice", manages_users=True, other_managers=0)
    assert propose(last).barrier == LAST_MANAGER
    protected = AccessFacts(FindingClass.LEAVER_ACCESS, "client", removable_reason="subscriber")
    assert propose(protected).action is RemovalAction.ASK_CLIENT
    assert propose(AccessFacts(FindingClass.MANAGED, "practice")).action is RemovalAction.NONE


def test_the_last_user_who_manages_users_is_never_planned_for_removal(engine: Engine) -> None:
    with session_scope(engine) as session:
        agent_login(session, AGENT)
        add_staff(session, "Lee Leaver", f"lee@{DOMAIN}", status="left")
        add_client(session, "Rimu Rentals", "Mia Manager", ("xero", "!CCCCC"))
        _scan(
            session,
            "!CCCCC",
            [
                _user(AGENT, "FINANCIALADVISER", "MANAGE_USERS"),
                _user(f"lee@{DOMAIN}", "STANDARD", "MANAGE_USERS"),
                _user("staff@rimu.example", "READONLY"),
            ],
        )
        reconcile(session, configured_domains=[DOMAIN])
        add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="test")
    _, items = _plan(engine, "Ada Admin", PlanRequest(person="Lee Leaver"))
    assert [(i.state, i.barrier) for i in items] == [(RemovalState.BLOCKED, LAST_MANAGER)]


def test_roles_and_scope_decide_who_may_propose(world: Engine) -> None:
    with pytest.raises(RemovalError, match="only practice admins, partners and managers"):
        _plan(world, "Eve Employee", PlanRequest(person=f"lee@{DOMAIN}"))
    # a manager plans for their own clients only
    _, items = _plan(world, "Mia Manager", PlanRequest(person=f"lee@{DOMAIN}"))
    assert len(items) == 1
    other = _finding(world, f"lee@{DOMAIN}", "!BBBBB")
    with pytest.raises(RemovalError, match="outside your clients"):
        _plan(world, "Mia Manager", PlanRequest(finding_ids=[other]))
    with pytest.raises(RemovalError, match="no finding 99999"):
        _plan(world, "Ada Admin", PlanRequest(finding_ids=[99999]))
    with pytest.raises(RemovalError, match="one of a person"):
        _plan(world, "Ada Admin", PlanRequest())


def test_four_eyes_the_proposer_never_approves_and_approving_twice_changes_nothing(
    world: Engine,
) -> None:
    plan_id, _ = _plan(world, "Ada Admin", PlanRequest(person=f"lee@{DOMAIN}"))
    settings = Settings()
    ada, mia = _who(world, "Ada Admin"), _who(world, "Mia Manager")
    with (
        pytest.raises(RemovalError, match="a second person must approve"),
        session_scope(world) as session,
    ):
        approve_plan(session, ada, plan_id, settings=settings)
    with (
        pytest.raises(RemovalError, match="only practice admins and partners approve"),
        session_scope(world) as session,
    ):
        approve_plan(session, mia, plan_id, settings=settings)
    with session_scope(world) as session:
        first = approve_plan(session, _who(world, "Pat Partner"), plan_id, settings=settings)
    assert len(first.approved) == 1
    assert len(first.requested) == 1
    with session_scope(world) as session:
        second = approve_plan(session, _who(world, "Pat Partner"), plan_id, settings=settings)
        assert second.approved == []
        assert second.requested == []
        assert len(session.exec(select(ClientRequest)).all()) == 1
        actions = [e.action for e in session.exec(select(AuditEvent))]
    assert actions.count("removal.planned") == 1
    assert actions.count("removal.approved") == 2
    assert actions.count("removal.client_requested") == 1


def test_a_single_admin_may_approve_their_own_plan_only_when_the_practice_says_so(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        agent_login(session, AGENT)
        add_staff(session, "Lee Leaver", f"lee@{DOMAIN}", status="left")
        _scan(
            session,
            "!DDDDD",
            [_user(AGENT, "FINANCIALADVISER", "MANAGE_USERS"), _user(f"lee@{DOMAIN}")],
        )
        reconcile(session, configured_domains=[DOMAIN])
        add_user(session, name="Solo Admin", role="practice_admin", scope="all", actor="test")
    plan_id, _ = _plan(engine, "Solo Admin", PlanRequest(person="Lee Leaver"))
    with pytest.raises(RemovalError, match="a second person"), session_scope(engine) as session:
        approve_plan(session, _who(engine, "Solo Admin"), plan_id, settings=Settings())
    with session_scope(engine) as session:
        approval = approve_plan(
            session,
            _who(engine, "Solo Admin"),
            plan_id,
            settings=Settings(single_admin_self_approval=True),
        )
        assert approval.self_approved
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "removal.approved")
        ).one()
        assert event.detail["self_approved_as_sole_admin"] is True


def test_a_finding_no_longer_open_is_skipped_with_the_reason(world: Engine) -> None:
    finding_id = _finding(world, f"lee@{DOMAIN}", "!AAAAA")
    with session_scope(world) as session:
        finding = session.get(Finding, finding_id)
        assert finding is not None
        finding.resolved_at = utcnow()
        session.add(finding)
    _, items = _plan(world, "Ada Admin", PlanRequest(finding_ids=[finding_id]))
    assert items[0].state == RemovalState.SKIPPED
    assert "no longer open" in items[0].detail
