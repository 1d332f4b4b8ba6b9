"""Access reviews in the dashboard, in a real Chromium: each manager's own list, the
decisions through the page's forms, the workbook, and the overview by reviewer.

The practice is ``tests.dashboard.world``'s: Mia manages Kōwhai, Tōtara, Harakeke and
Mānuka; Max (signed in as "Max M.", linked to his staff record) manages the rest.
"""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from agent.clock import utcnow
from agent.security.users import principal_of
from agent.services.campaigns.start import start_campaign
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, CampaignItem, RemovalItem
from tests.dashboard.conftest import Dashboard

DOMAIN = "harbourco.example"
BEN = f"ben@{DOMAIN}"
ANA = f"ana@{DOMAIN}"


@pytest.fixture(scope="module")
def campaign(dash: Dashboard) -> int:
    with session_scope(dash.runtime.engine) as session:
        started = start_campaign(
            session,
            principal_of(session, "Ada Admin"),
            "Q1 2027",
            due_on=utcnow().date() + timedelta(days=30),
        )
        assert started.campaign.id is not None
        return started.campaign.id


def _emails(page: Page) -> set[str]:
    rows = page.locator("table.review-items tbody tr")
    return {
        rows.nth(i).locator("td").first.locator(".sub").inner_text() for i in range(rows.count())
    }


def _item(dash: Dashboard, campaign: int, reviewer: str, email: str) -> CampaignItem:
    with session_scope(dash.runtime.engine) as session:
        return session.exec(
            select(CampaignItem).where(
                CampaignItem.campaign_id == campaign,
                CampaignItem.reviewer == reviewer,
                CampaignItem.email == email,
            )
        ).first()  # type: ignore[return-value]


def test_a_manager_sees_and_decides_only_their_clients(dash: Dashboard, campaign: int) -> None:
    page = dash.page("mia")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    page.wait_for_url(f"{dash.base}/dashboard/review")
    page.get_by_role("link", name="My review").first.click()
    page.wait_for_url(f"{dash.base}/dashboard/review/{campaign}")
    clients = {s.get_attribute("data-client") for s in page.locator("section[data-client]").all()}
    assert clients, "Mia has items to review"
    assert clients <= {"Kōwhai Bakery", "Tōtara Builders", "Harakeke Nursery", "Mānuka Honey"}
    assert BEN in _emails(page)

    # keeping a leaver without a reason is refused, and the page says why
    ben = _item(dash, campaign, "Mia Manager", BEN)
    row = page.locator(f'tr[data-item="{ben.id}"]')
    row.get_by_role("button", name="Keep").click()
    expect(page.locator("body")).to_contain_text("keeping it needs a reason")
    page.go_back()
    page.reload()

    # removing him becomes a removal plan waiting for approval
    row = page.locator(f'tr[data-item="{ben.id}"]')
    row.get_by_role("button", name="Remove", exact=True).click()
    expect(page.locator("#review-done")).to_contain_text("waits for approval")
    with session_scope(dash.runtime.engine) as session:
        item = session.get(CampaignItem, ben.id)
        assert item is not None
        assert item.decision == "remove"
        assert item.removal_item_id is not None
        removal = session.get(RemovalItem, item.removal_item_id)
        assert removal is not None
        assert removal.state == "planned"
    dash.screenshot(page, "my-review")

    # Max's item cannot be decided from Mia's session, even by a forged form
    theirs = _item(dash, campaign, "Max Manager", BEN)
    assert theirs is not None
    csrf = page.locator('input[name="csrf"]').first.input_value()
    response = page.request.post(
        f"{dash.base}/dashboard/review/{campaign}/decide",
        form={"csrf": csrf, "item_id": str(theirs.id), "decision": "keep", "reason": "x"},
        headers={"Origin": dash.base},
    )
    assert response.status == 409
    assert "for Max Manager to decide" in response.text()
    page.close()


def test_the_workbook_holds_the_callers_rows_and_is_audited(dash: Dashboard, campaign: int) -> None:
    page = dash.page("max")
    response = page.request.get(f"{dash.base}/dashboard/review/{campaign}/list.xlsx")
    assert response.status == 200
    book = openpyxl.load_workbook(io.BytesIO(response.body()), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    text = "\n".join(" ".join(str(v) for v in row if v is not None) for row in rows)
    assert "Rātā Joinery" in text
    assert "Kōwhai Bakery" not in text
    with session_scope(dash.runtime.engine) as session:
        assert session.exec(
            select(AuditEvent).where(AuditEvent.action == "export.review_list")
        ).first()
    page.close()


def test_the_overview_shows_progress_by_reviewer(dash: Dashboard, campaign: int) -> None:
    page = dash.page("admin")
    page.goto("/dashboard/review")
    section = page.locator(f'section[data-campaign="{campaign}"]')
    expect(section).to_contain_text("Q1 2027")
    expect(section.locator('tr[data-reviewer="Mia Manager"]')).to_be_visible()
    expect(section.locator('tr[data-reviewer="Max Manager"]')).to_be_visible()
    page.goto(f"/dashboard/review/{campaign}?everyone=1")
    expect(page.locator("h1")).to_contain_text("Everyone's items")
    dash.screenshot(page, "review-everyone")
    page.close()


def test_a_bulk_decision_covers_every_item_of_one_person(dash: Dashboard, campaign: int) -> None:
    page = dash.page("mia")
    page.goto(f"/dashboard/review/{campaign}")
    bulk = page.locator("#review-bulk-person")
    bulk.locator('select[name="person"]').select_option(ANA)
    bulk.locator('select[name="decision"]').select_option("keep")
    bulk.locator('input[name="reason"]').fill("works on these clients")
    bulk.get_by_role("button", name="Decide all for this person").click()
    expect(page.locator("#review-done")).to_contain_text("decided: keep")
    with session_scope(dash.runtime.engine) as session:
        anas = session.exec(
            select(CampaignItem).where(
                CampaignItem.campaign_id == campaign, CampaignItem.email == ANA
            )
        ).all()
    mine = [i for i in anas if i.reviewer == "Mia Manager"]
    assert mine, "Ana is in Mia's list"
    assert {(i.decision, i.reason) for i in mine} == {("keep", "works on these clients")}
    assert all(i.decision == "" for i in anas if i.reviewer != "Mia Manager")
    for item in mine:
        expect(page.locator(f'tr[data-item="{item.id}"] [data-field="decision"]')).to_contain_text(
            "settled"
        )
    page.close()


def test_a_closed_review_is_read_only(dash: Dashboard) -> None:
    with session_scope(dash.runtime.engine) as session:
        started = start_campaign(
            session,
            principal_of(session, "Ada Admin"),
            "Closed review",
            due_on=utcnow().date() + timedelta(days=1),
        )
        started.campaign.closed_at = utcnow()
        session.add(started.campaign)
        closed = started.campaign.id
    page = dash.page("mia")
    page.goto(f"/dashboard/review/{closed}")
    expect(page.locator("#review-closed")).to_contain_text("its decisions are final")
    assert page.locator("table.review-items tbody tr").count() > 0
    assert page.locator("form.decide").count() == 0
    assert page.locator("#review-bulk-person").count() == 0
    item = page.locator("table.review-items tbody tr").first.get_attribute("data-item")
    csrf = page.locator('input[name="csrf"]').first.input_value()
    response = page.request.post(
        f"{dash.base}/dashboard/review/{closed}/decide",
        form={"csrf": csrf, "item_id": str(item), "decision": "already_gone"},
        headers={"Origin": dash.base},
    )
    assert response.status == 409
    assert "its decisions are final" in response.text()
    with session_scope(dash.runtime.engine) as session:
        assert session.get(CampaignItem, int(str(item))).decision == ""  # type: ignore[union-attr]
    page.close()
