"""Access review campaigns through the API: each reviewer's own list, their decisions,
progress by reviewer and the reviewer's workbook.

The practice is ``tests.server.conftest``'s: Mia Manager reviews Kōwhai Bakery (Ben,
a leaver, and Ana), Max Manager (signed in as "Max M.") reviews Rātā Joinery (Ben),
and Ben's access to the unlinked org is the practice admins' to review.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.security.users import principal_of
from agent.services.campaigns.start import start_campaign
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Campaign, CampaignItem, RemovalItem, RemovalPlan
from tests.factories import DOMAIN
from tests.server.conftest import Practice

BEN = f"ben@{DOMAIN}"
ANA = f"ana@{DOMAIN}"
#: Rātā Joinery's manager as the client list spells it: the campaign keeps it as written
MAX = "max  manager"
CAMPAIGNS = "/api/v1/campaigns"
ITEM_HEADER = 3  # the workbook's header row (zero-based), under title, as-of and scope


@pytest.fixture
def campaign(practice: Practice) -> int:
    with session_scope(practice.runtime.engine) as session:
        started = start_campaign(
            session,
            principal_of(session, "Ada Admin"),
            "Q1 2027",
            due_on=utcnow().date() + timedelta(days=30),
        )
        assert started.campaign.id is not None
        return started.campaign.id


def _items(client: TestClient, campaign: int, **params: object) -> list[dict[str, object]]:
    answer = client.get(f"{CAMPAIGNS}/{campaign}/items", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


def _item_id(practice: Practice, campaign: int, reviewer: str, email: str) -> int:
    with Session(practice.runtime.engine) as session:
        found = session.exec(
            select(CampaignItem.id).where(
                CampaignItem.campaign_id == campaign,
                CampaignItem.reviewer == reviewer,
                CampaignItem.email == email,
            )
        ).one()
    assert found is not None
    return found


def _stored(practice: Practice, item_id: int) -> CampaignItem:
    with Session(practice.runtime.engine) as session:
        item = session.get(CampaignItem, item_id)
        assert item is not None
        return item


def _decide(api: TestClient, campaign: int, **body: object) -> tuple[int, dict[str, object]]:
    answer = api.post(f"{CAMPAIGNS}/{campaign}/decisions", json=body)
    return answer.status_code, answer.json()


def test_each_reviewer_lists_only_their_own_clients(practice: Practice, campaign: int) -> None:
    mia = _items(practice.client("mia"), campaign)
    assert {i["client"] for i in mia} == {"Kōwhai Bakery"}
    assert {i["email"] for i in mia} == {BEN, ANA}
    ben = next(i for i in mia if i["email"] == BEN)
    assert ben["reason_required"] is True
    assert ben["state"] == "open"

    max_items = _items(practice.client("max"), campaign)
    assert [(i["client"], i["email"]) for i in max_items] == [("Rātā Joinery", BEN)]

    admin = practice.client("admin")
    assert [(i["portal_org_id"], i["reviewer"]) for i in _items(admin, campaign)] == [
        ("!unl01", "")
    ]
    assert len(_items(admin, campaign, everyone="true")) == 4

    refused = practice.client("mia").get(f"{CAMPAIGNS}/{campaign}/items?everyone=true")
    assert refused.status_code == 403
    assert "only practice admins" in refused.json()["detail"]
    assert practice.client("mia").get(f"{CAMPAIGNS}/999/items").status_code == 404


def test_keeping_a_leaver_needs_a_reason(practice: Practice, campaign: int) -> None:
    mia = practice.client("mia")
    ben = _item_id(practice, campaign, "Mia Manager", BEN)
    code, answer = _decide(mia, campaign, item_ids=[ben], decision="keep")
    assert code == 409
    assert "keeping it needs a reason" in str(answer["detail"])
    assert _stored(practice, ben).decision == ""

    code, answer = _decide(
        mia, campaign, item_ids=[ben], decision="keep", reason="finishing the March accounts"
    )
    assert code == 200, answer
    assert answer["items"] == [ben]
    assert answer["plan_id"] is None
    row = next(i for i in _items(mia, campaign) if i["item_id"] == ben)
    assert (row["decision"], row["reason"], row["state"]) == (
        "keep",
        "finishing the March accounts",
        "settled",
    )
    assert row["decided_by"]


def test_a_remove_decision_becomes_a_removal_plan(practice: Practice, campaign: int) -> None:
    code, answer = _decide(
        practice.client("mia"), campaign, person="Ben Brennan", decision="remove"
    )
    assert code == 200, answer
    plan_id = answer["plan_id"]
    assert isinstance(plan_id, int)
    ben = _item_id(practice, campaign, "Mia Manager", BEN)
    assert answer["items"] == [ben]
    item = _stored(practice, ben)
    assert item.decision == "remove"
    with Session(practice.runtime.engine) as session:
        plan = session.get(RemovalPlan, plan_id)
        assert plan is not None
        assert "Q1 2027" in plan.note
        removal = session.get(RemovalItem, item.removal_item_id)
        assert removal is not None
        assert (removal.plan_id, removal.state) == (plan_id, "planned")
    # Max's Ben in Rātā is his to decide: Mia's "every item for Ben" left it alone
    assert _stored(practice, _item_id(practice, campaign, MAX, BEN)).decision == ""
    states = {i["item_id"]: i["state"] for i in _items(practice.client("mia"), campaign)}
    assert states[ben] == "awaiting removal"


def test_another_reviewers_item_is_refused(practice: Practice, campaign: int) -> None:
    theirs = _item_id(practice, campaign, MAX, BEN)
    code, answer = _decide(
        practice.client("mia"), campaign, item_ids=[theirs], decision="keep", reason="x"
    )
    assert code == 409
    assert f"for {MAX} to decide, not Mia Manager" in str(answer["detail"])
    code, answer = _decide(practice.client("mia"), campaign, client="Rātā Joinery", decision="keep")
    assert code == 409
    assert "nothing in Mia Manager's list" in str(answer["detail"])
    # an employee records no review decisions at all
    code, _ = _decide(practice.client("eve"), campaign, item_ids=[theirs], decision="remove")
    assert code == 403
    assert _stored(practice, theirs).decision == ""
    with Session(practice.runtime.engine) as session:
        assert not session.exec(
            select(AuditEvent).where(AuditEvent.action == "campaign.decided")
        ).first()


def test_a_closed_campaign_refuses_every_decision(practice: Practice, campaign: int) -> None:
    with session_scope(practice.runtime.engine) as session:
        closed = session.get(Campaign, campaign)
        assert closed is not None
        closed.closed_at = utcnow()
        session.add(closed)
    ana = _item_id(practice, campaign, "Mia Manager", ANA)
    code, answer = _decide(practice.client("mia"), campaign, item_ids=[ana], decision="keep")
    assert code == 409
    assert "its decisions are final" in str(answer["detail"])
    assert _stored(practice, ana).decision == ""
    shown = practice.client("mia").get(f"{CAMPAIGNS}/{campaign}").json()
    assert shown["closed_at"] is not None
    assert shown["overdue"] is False
    code, _ = _decide(practice.client("mia"), 999, item_ids=[ana], decision="keep")
    assert code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "keep", "reason": "x"},
        {"item_ids": [1], "client": "Kōwhai Bakery", "decision": "keep"},
        {"item_ids": [1], "decision": "keep", "reassign_to": "Max Manager"},
        {"item_ids": [1], "decision": "approve"},
        {"person": "   ", "decision": "remove"},
    ],
)
def test_a_request_that_does_not_say_what_to_decide_is_422(
    practice: Practice, campaign: int, body: dict[str, object]
) -> None:
    code, _ = _decide(practice.client("mia"), campaign, **body)
    assert code == 422
    with Session(practice.runtime.engine) as session:
        assert not session.exec(
            select(CampaignItem).where(col(CampaignItem.decision) != "")
        ).first()


def test_not_my_client_hands_the_item_on(practice: Practice, campaign: int) -> None:
    ana = _item_id(practice, campaign, "Mia Manager", ANA)
    code, answer = _decide(
        practice.client("mia"),
        campaign,
        item_ids=[ana],
        decision="not_my_client",
        reassign_to="Max Manager",
    )
    assert code == 200, answer
    assert answer["reassigned_to"] == "Max Manager"
    assert ana not in {i["item_id"] for i in _items(practice.client("mia"), campaign)}
    theirs = {i["item_id"]: i for i in _items(practice.client("max"), campaign)}
    assert theirs[ana]["state"] == "open"
    assert theirs[ana]["reviewer_basis"] == "reassigned"


def test_progress_by_reviewer(practice: Practice, campaign: int) -> None:
    ben = _item_id(practice, campaign, "Mia Manager", BEN)
    _decide(practice.client("mia"), campaign, item_ids=[ben], decision="keep", reason="why not")
    listed = practice.client("eve").get(CAMPAIGNS)
    assert listed.status_code == 200
    (shown,) = listed.json()
    assert (shown["id"], shown["name"], shown["items"], shown["decided"]) == (
        campaign,
        "Q1 2027",
        4,
        1,
    )
    assert shown["due_on"] == (utcnow().date() + timedelta(days=30)).isoformat()
    by_reviewer = {r["reviewer"]: r for r in shown["reviewers"]}
    assert set(by_reviewer) == {"Mia Manager", MAX, ""}
    mia = by_reviewer["Mia Manager"]
    assert (mia["items"], mia["decided"], mia["open"], mia["settled"]) == (2, 1, 1, 1)
    assert mia["decisions"] == {"keep": 1}
    assert by_reviewer[MAX]["decided"] == 0
    one = practice.client("mia").get(f"{CAMPAIGNS}/{campaign}")
    assert one.json() == shown
    assert practice.client("mia").get(f"{CAMPAIGNS}/999").status_code == 404


def _sheet_rows(content: bytes, sheet: str) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book[sheet].iter_rows(values_only=True))
    return [r for r in rows[ITEM_HEADER + 1 :] if r and r[0] is not None]


def test_the_workbook_holds_exactly_the_callers_rows(practice: Practice, campaign: int) -> None:
    mia = practice.client("mia")
    answer = mia.get(f"{CAMPAIGNS}/{campaign}/items.xlsx")
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    rows = _sheet_rows(answer.content, "Review")
    assert sorted(int(str(r[0])) for r in rows) == sorted(
        int(str(i["item_id"])) for i in _items(mia, campaign)
    )
    assert {r[1] for r in rows} == {"Kōwhai Bakery"}
    assert {r[7] for r in rows} == {BEN, ANA}
    digest = hashlib.sha256(answer.content).hexdigest()
    assert answer.headers["x-content-sha256"] == digest
    with Session(practice.runtime.engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "export.review_list")
        ).one()
    assert event.detail["sha256"] == digest
    assert event.detail["rows"] == 2

    everyone = practice.client("admin").get(
        f"{CAMPAIGNS}/{campaign}/items.xlsx", params={"everyone": "true"}
    )
    assert len(_sheet_rows(everyone.content, "Review")) == 4
    progress = _sheet_rows(everyone.content, "Progress")
    assert {r[0] for r in progress} >= {"Mia Manager", MAX, "Practice admins"}
    assert (
        practice.client("max")
        .get(f"{CAMPAIGNS}/{campaign}/items.xlsx", params={"everyone": "true"})
        .status_code
        == 403
    )
