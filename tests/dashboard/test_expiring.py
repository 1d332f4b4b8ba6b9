"""The expiring page and the overview's time to close, in a real Chromium.

The practice is ``tests.dashboard.world``'s, with end dates added: Ana's grant on
Kōwhai (Mia's client) ends in 5 days, Dee's on Rātā (Max's) in 12, and Mia accepted
Ben's access to Kōwhai until 20 days from now. Ben left: his access is open on four
orgs (first seen six days ago) and was closed on Tōtara three days after it was seen.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from agent.clock import utcnow
from agent.services.review import accept_risk
from agent.storage.db import session_scope
from agent.storage.models import IntendedAccess, Staff
from tests.dashboard.conftest import Dashboard
from tests.dashboard.world import finding_id

DOMAIN = "harbourco.example"


@pytest.fixture(scope="module")
def rig(dash: Dashboard) -> Dashboard:
    today = utcnow().date()
    with session_scope(dash.runtime.engine) as session:
        ends = {("Ana Active", "!kow01"): 5, ("Dee Drift", "!rat01"): 12}
        for (name, org_id), days in ends.items():
            staff = session.exec(select(Staff).where(Staff.name == name)).one()
            grant = session.exec(
                select(IntendedAccess).where(
                    IntendedAccess.staff_id == staff.id, IntendedAccess.portal_org_id == org_id
                )
            ).one()
            grant.until = today + timedelta(days=days)
            session.add(grant)
        accept_risk(
            session,
            finding_id(dash.runtime, "!kow01", f"ben@{DOMAIN}"),
            actor="Mia Manager",
            reason="Ben hands over the year-end accounts",
            expires_on=today + timedelta(days=20),
        )
    return dash


def _rows(page: Page) -> list[tuple[str, str]]:
    rows = page.locator("#expiring tbody tr")
    return [
        (
            rows.nth(i).get_attribute("data-kind") or "",
            rows.nth(i).locator("td").nth(4).inner_text(),
        )
        for i in range(rows.count())
    ]


def test_the_expiring_page_lists_both_kinds_soonest_first(rig: Dashboard) -> None:
    page = rig.page("admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Expiring").click()
    page.wait_for_url(f"{rig.base}/dashboard/expiring")
    expect(page.locator("#expiring-count")).to_contain_text("3 ending within 30 days")
    assert [(kind, person.split("\n")[0]) for kind, person in _rows(page)] == [
        ("access_end", "Ana Active"),
        ("access_end", "Dee Drift"),
        ("accepted_risk", "Ben Brennan"),
    ]
    first = page.locator("#expiring tbody tr").first
    expect(first).to_contain_text("in 5 days")
    expect(first).to_contain_text("Kōwhai Bakery")
    risk = page.locator('#expiring tbody tr[data-kind="accepted_risk"]')
    expect(risk).to_contain_text("Mia Manager")
    expect(risk).to_contain_text("Ben hands over the year-end accounts")
    expect(risk).to_contain_text("in 20 days")
    rig.screenshot(page, "expiring")

    page.get_by_label("Ending within").select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#expiring tbody tr")).to_have_count(1)
    page.goto("/dashboard/expiring?days=not-a-number")  # forgiving: the default horizon
    expect(page.locator("#expiring tbody tr")).to_have_count(3)
    page.close()


def test_the_expiring_page_shows_only_the_viewers_clients(rig: Dashboard) -> None:
    mia = rig.page("mia")
    mia.goto("/dashboard/expiring")
    expect(mia.locator("#expiring tbody tr")).to_have_count(2)
    expect(mia.locator("#expiring")).not_to_contain_text("Rātā")
    mia.close()

    eve = rig.page("eve")  # Rātā only
    eve.goto("/dashboard/expiring")
    expect(eve.locator("#expiring tbody tr")).to_have_count(1)
    expect(eve.locator("#expiring tbody tr")).to_contain_text("Dee Drift")
    eve.goto("/dashboard/expiring?days=7")
    expect(eve.locator("#expiring-empty")).to_contain_text(
        "Nothing on your clients ends in the next 7 days"
    )
    eve.close()


def test_the_overview_shows_leaver_access_by_age_and_the_time_to_close(rig: Dashboard) -> None:
    page = rig.page("admin")
    ages = page.locator("#leaver-ages")
    counts = [
        ages.locator(f'tr[data-age="{key}"] td.num').inner_text()
        for key in ("0-7", "8-30", "31-90", "91-")
    ]
    assert counts == ["4", "0", "0", "0"]
    expect(page.locator("#leaver-median")).to_contain_text("3.0 days")
    expect(page.locator("#leaver-median")).to_contain_text("(1 closed)")
    rig.screenshot(page, "overview-time-to-close")
    page.close()

    eve = rig.page("eve")  # Rātā: Ben is still there, and nothing has closed
    expect(eve.locator('#leaver-ages tr[data-age="0-7"] td.num')).to_have_text("1")
    expect(eve.locator("#leaver-median-empty")).to_contain_text(
        "No leaver access was closed in the last 90 days"
    )
    expect(eve.locator("#leaver-median")).to_have_count(0)
    eve.close()
