"""Removals through the API: plan, approve (four eyes), ask for a run, all within scope.

The practice is ``tests.server.conftest``'s, plus the agent's own Xero login in
Kōwhai Bakery (!kow01) holding Manage users, so Ben's access there is the practice's
to remove; in Rātā Joinery (!rat01) the agent is not a user, so only the client can
remove him; !unl01 is on no client. Runs are only asked for here: the worker that
carries them out drives a browser and is tested with the portals.
"""

from __future__ import annotations

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal
from agent.runtime import Runtime
from agent.security.logins import add_login
from agent.security.users import add_user
from agent.services.findings import reconcile
from agent.services.scans import find_org, record_ok_scan
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, ClientRequest, Finding, Org, RemovalPlan
from tests.factories import DOMAIN
from tests.server.conftest import Practice, api_client, build_practice, token_for

AGENT = f"accessrecon.xero@{DOMAIN}"
BEN = f"ben@{DOMAIN}"
PLANS = "/api/v1/removals/plans"


@pytest.fixture
def practice(runtime: Runtime) -> Practice:
    """The server tests' practice, the agent able to remove users in !kow01, and a partner."""
    built = build_practice(runtime)
    with session_scope(runtime.engine) as session:
        add_login(
            session,
            runtime.box,
            portal="xero",
            email=AGENT,
            password="pw",
            totp_secret=pyotp.random_base32(),
            base_url="http://127.0.0.1:9",
        )
        kowhai = find_org(session, "xero", "!kow01")
        assert kowhai is not None
        assert kowhai.id is not None
        users = (
            PortalUser(AGENT, "Access Robot", "STANDARD", AccessStatus.ACTIVE, ("MANAGE_USERS",)),
            PortalUser(BEN, "Ben Brennan", "FINANCIALADVISER", AccessStatus.ACTIVE),
            PortalUser("owner@kowhai.example", "Olive Owner", "STANDARD", AccessStatus.ACTIVE),
            PortalUser(f"ana@{DOMAIN}", "Ana Active", "STANDARD", AccessStatus.ACTIVE),
        )
        record_ok_scan(
            session,
            org_id=kowhai.id,
            started_at=utcnow(),
            result=OrgUsers(
                OrgRef(Portal.XERO, "!kow01", kowhai.name), users, len(users), "JSON total 4"
            ),
        )
        reconcile(session, configured_domains=[DOMAIN])
        partner = add_user(session, name="Pat Partner", role="partner", scope="all", actor="test")
    built.user_ids["pat"] = partner.id
    built.tokens["pat"] = token_for(runtime, partner.id)
    return built


def _finding(practice: Practice, org_id: str, email: str = BEN) -> int:
    with Session(practice.runtime.engine) as session:
        found = session.exec(
            select(Finding.id)
            .join(Org, col(Org.id) == col(Finding.org_id))
            .where(
                Org.portal_org_id == org_id,
                Finding.email == email,
                col(Finding.resolved_at).is_(None),
            )
        ).one()
    assert found is not None
    return found


def _plan(client: TestClient, **body: object) -> dict[str, object]:
    answer = client.post(PLANS, json=body)
    assert answer.status_code == 201, answer.text
    plan: dict[str, object] = answer.json()
    return plan


def _items(plan: dict[str, object]) -> dict[str, dict[str, object]]:
    items = plan["items"]
    assert isinstance(items, list)
    return {str(i["portal_org_id"]): i for i in items}


def test_a_plan_is_a_dry_run_that_says_who_can_remove_what(practice: Practice) -> None:
    plan = _plan(practice.client("admin"), person="Ben Brennan", note="left in March")
    items = _items(plan)
    assert set(items) == {"!kow01", "!rat01", "!unl01"}
    kowhai, rata = items["!kow01"], items["!rat01"]
    assert (kowhai["removable_by"], kowhai["action"], kowhai["state"]) == (
        "practice",
        "remove",
        "planned",
    )
    assert (rata["removable_by"], rata["action"], rata["state"]) == (
        "client",
        "ask_client",
        "planned",
    )
    assert rata["removable_reason"] == "agent's login not in this org"
    assert rata["client"] == "Rātā Joinery"
    summary = plan["plan"]
    assert isinstance(summary, dict)
    assert summary["status"] == "awaiting approval"
    assert summary["note"] == "left in March"
    assert summary["counts"] == {"planned": 3}

    listed = practice.client("admin").get(PLANS).json()
    assert [p["id"] for p in listed] == [summary["id"]]
    with Session(practice.runtime.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "removal.planned"))
        assert [e.actor for e in events] == [f"Ada Admin (user #{practice.user_ids['admin']})"]


def test_an_employee_may_not_plan(practice: Practice) -> None:
    eve = practice.client("eve")
    answer = eve.post(PLANS, json={"finding_ids": [_finding(practice, "!rat01")]})
    assert answer.status_code == 403
    assert "only practice admins, partners and managers propose" in answer.json()["detail"]
    assert eve.post(PLANS, json={"person": "Ben Brennan"}).status_code == 403
    with Session(practice.runtime.engine) as session:
        assert session.exec(select(RemovalPlan)).first() is None


def test_a_manager_plans_and_sees_only_their_own_clients(practice: Practice) -> None:
    mia, max_ = practice.client("mia"), practice.client("max")
    outside = mia.post(PLANS, json={"finding_ids": [_finding(practice, "!rat01")]})
    assert outside.status_code == 404
    assert "among your clients" in outside.json()["detail"]
    unknown = mia.post(PLANS, json={"finding_ids": [999_999]})
    assert (unknown.status_code, unknown.json()) == (
        outside.status_code,
        {"detail": "no finding 999999 among your clients"},
    )

    plan = _plan(mia, person=BEN)
    assert set(_items(plan)) == {"!kow01"}, "a leaver's plan covers only Mia's clients"
    plan_id = plan["plan"]["id"]  # type: ignore[index]

    assert max_.get(PLANS).json() == []
    assert max_.get(f"{PLANS}/{plan_id}").status_code == 404
    seen = practice.client("admin").get(f"{PLANS}/{plan_id}").json()
    assert set(_items(seen)) == {"!kow01"}

    # a plan across clients: each manager sees their own part, counted alone
    everyone = _plan(practice.client("admin"), person="Ben Brennan")
    everyone_id = everyone["plan"]["id"]  # type: ignore[index]
    part = max_.get(f"{PLANS}/{everyone_id}").json()
    assert set(_items(part)) == {"!rat01"}
    assert part["plan"]["counts"] == {"planned": 1}
    assert [p["id"] for p in max_.get(PLANS).json()] == [everyone_id]
    assert [p["total"] for p in mia.get(PLANS).json()] == [1, 1]


def test_four_eyes_the_proposer_does_not_approve_and_an_admin_does(practice: Practice) -> None:
    admin = practice.client("admin")
    own = _plan(admin, person="Ben Brennan")["plan"]["id"]  # type: ignore[index]
    refused = admin.post(f"{PLANS}/{own}/approve", json={})
    assert refused.status_code == 403
    assert "a second person must approve it" in refused.json()["detail"]

    plan_id = _plan(practice.client("mia"), person=BEN)["plan"]["id"]  # type: ignore[index]
    mine = practice.client("mia").post(f"{PLANS}/{plan_id}/approve", json={})
    assert mine.status_code == 403
    assert "only practice admins and partners approve" in mine.json()["detail"]

    approved = admin.post(f"{PLANS}/{plan_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    item = _items(body["plan"])["!kow01"]
    assert body["approved"] == [item["id"]]
    assert item["state"] == "approved"
    assert item["approved_by"] == f"Ada Admin (user #{practice.user_ids['admin']})"
    assert body["plan"]["plan"]["status"] == "approved, to run"

    again = admin.post(f"{PLANS}/{plan_id}/approve", json={})
    assert again.status_code == 200
    assert again.json()["approved"] == []
    assert again.json()["unchanged"] == [{"item_id": item["id"], "why": "already approved"}]
    assert _items(again.json()["plan"])["!kow01"]["state"] == "approved"
    with Session(practice.runtime.engine) as session:
        finding = session.get(Finding, item["finding_id"])
        assert finding is not None
        assert finding.review_state == "removal_requested"


def test_approving_asks_the_client_and_the_org_status_says_since_when(
    practice: Practice,
) -> None:
    plan = _plan(practice.client("admin"), person="Ben Brennan")
    plan_id = plan["plan"]["id"]  # type: ignore[index]
    rata = _items(plan)["!rat01"]
    status = practice.client("max").get("/api/v1/orgs/xero/!rat01/status").json()
    assert status["client_requests"] == []
    assert {p["email"]: p["finding_id"] for p in status["people"]}[BEN] == rata["finding_id"]

    # a partner approves only the Rātā item, naming it
    answer = practice.client("pat").post(
        f"{PLANS}/{plan_id}/approve", json={"item_ids": [rata["id"]]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["requested_from_client"] == [rata["id"]]
    assert _items(answer.json()["plan"])["!rat01"]["state"] == "requested"
    assert _items(answer.json()["plan"])["!kow01"]["state"] == "planned"

    status = practice.client("max").get("/api/v1/orgs/xero/!rat01/status").json()
    [request] = status["client_requests"]
    assert (request["email"], request["name"]) == (BEN, "ben")
    assert request["requested_at"].startswith(utcnow().date().isoformat())
    slim = practice.client("max").get(
        "/api/v1/orgs/xero/!rat01/status", params={"include_people": "false"}
    )
    assert slim.json()["client_requests"] == []
    with Session(practice.runtime.engine) as session:
        assert len(session.exec(select(ClientRequest)).all()) == 1


def test_a_run_is_asked_for_only_once_something_is_approved(practice: Practice) -> None:
    admin, pat = practice.client("admin"), practice.client("pat")
    plan_id = _plan(admin, person="Ben Brennan")["plan"]["id"]  # type: ignore[index]
    early = pat.post(f"{PLANS}/{plan_id}/run", json={})
    assert early.status_code == 400
    assert early.json()["detail"] == f"plan {plan_id} has no approved item waiting to run"

    assert pat.post(f"{PLANS}/{plan_id}/approve", json={}).status_code == 200
    assert practice.client("eve").post(f"{PLANS}/{plan_id}/run", json={}).status_code == 403
    accepted = admin.post(f"{PLANS}/{plan_id}/run", json={})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["run_requested_by"] == (
        f"Ada Admin (user #{practice.user_ids['admin']})"
    )
    with Session(practice.runtime.engine) as session:
        plan = session.get(RemovalPlan, plan_id)
        assert plan is not None
        assert plan.run_requested_at is not None
    assert practice.client("max").post(f"{PLANS}/{plan_id}/run", json={}).status_code == 202
    assert practice.client("mia").post(f"{PLANS}/999/run", json={}).status_code == 404


def test_bad_requests_say_what_is_wrong(practice: Practice) -> None:
    admin = practice.client("admin")
    nothing = admin.post(PLANS, json={})
    assert nothing.status_code == 400
    assert "one of a person, finding ids, or a finding class" in nothing.json()["detail"]
    both = admin.post(PLANS, json={"person": "Ben Brennan", "finding_class": "leaver_access"})
    assert both.status_code == 400
    typo = admin.post(PLANS, json={"finding_id": 3})
    assert typo.status_code == 422
    assert typo.json()["detail"][0]["loc"] == ["body", "finding_id"]
    assert admin.post(PLANS, json={"finding_ids": [0]}).status_code == 422
    assert admin.post(PLANS, json={"finding_class": "nope"}).status_code == 422
    unknown = admin.post(PLANS, json={"person": "Nobody At All"})
    assert unknown.status_code == 400
    assert admin.post(f"{PLANS}/1/approve", json={"item_ids": ["x"]}).status_code == 422
    assert admin.get(f"{PLANS}/0").status_code == 422
    assert admin.get(f"{PLANS}/77").status_code == 404
    assert practice.client().get(PLANS).status_code == 401
    assert practice.client().post(PLANS, json={"person": "Ben Brennan"}).status_code == 401


def test_the_routes_are_described_in_the_openapi_document(practice: Practice) -> None:
    schema = api_client(practice.runtime, enable_docs=True).get("/openapi.json").json()
    paths = schema["paths"]
    assert set(paths[PLANS]) == {"get", "post"}
    assert "dry run" in paths[PLANS]["post"]["description"]
    assert "four eyes" in paths[f"{PLANS}/{{plan_id}}/approve"]["post"]["description"]
    assert "202" in paths[f"{PLANS}/{{plan_id}}/run"]["post"]["responses"]
