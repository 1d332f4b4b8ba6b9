"""The findings page in a real Chromium: grouped by person or by client (kept in the
address), review decisions on ticked findings, and a list that fits 1024 px.

The practice is ``tests.dashboard.world``'s; its twelve findings that need action are
Ben's leaver access on Kōwhai, Rātā, Kererū and Unlinked Holdings, a direct invite on
Kōwhai (Mallory) and on Mānuka (Nia), an unknown practice address on Rātā (ghost),
Ana's role drift on Tōtara, access on archived Kauri and on Unlinked Holdings, Lou's
grant not seen on Tōtara, and a probable match on Harakeke.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from agent.clock import utcnow
from agent.security.audit import list_events
from agent.storage.models import Finding
from tests.dashboard.conftest import Dashboard
from tests.dashboard.world import MYOB_NURSERY, finding_id
from tests.extension.harness import pairing_code

DOMAIN = "harbourco.example"


def _states(dash: Dashboard) -> dict[int, str]:
    with Session(dash.runtime.engine) as session:
        return {f.id: f.review_state for f in session.exec(select(Finding)) if f.id is not None}


def _reviewed(dash: Dashboard) -> list[tuple[str, dict[str, object]]]:
    with Session(dash.runtime.engine) as session:
        events = list_events(session, action="finding.reviewed", limit=None).events
        return [(e.actor, e.detail) for e in events]


def _headings(page: Page) -> list[str]:
    return page.locator("#findings section.group h2").all_inner_texts()


def _columns(page: Page) -> list[str]:
    return [
        t.strip().lower()
        for t in page.locator("#findings section.group").first.locator("th").all_inner_texts()
        if t.strip()
    ]


def _csrf(page: Page) -> str:
    token = page.locator('form[action="/dashboard/logout"] input[name="csrf"]').get_attribute(
        "value"
    )
    return token or ""


def test_findings_are_grouped_by_person_or_client_and_the_choice_stays(dash: Dashboard) -> None:
    page = dash.page("admin")
    page.goto("/dashboard/findings?class=leaver_access")
    expect(page.locator("#findings-count")).to_have_text("4 findings")
    # By person (the default): Ben once, his four orgs below him.
    assert _headings(page) == ["Ben Brennan"]
    ben = page.locator("#findings section.group").first
    expect(ben.locator("tbody tr")).to_have_count(4)
    expect(ben.locator(".group-count")).to_have_text("4 findings")
    assert "person" not in _columns(page)
    assert "client" in _columns(page)
    dash.screenshot(page, "findings-by-person")

    page.locator("#grouping").get_by_role("link", name="Client").click()
    page.wait_for_url(re.compile(r".*group=client.*"))
    assert "class=leaver_access" in page.url, "the filters stay when the grouping changes"
    expect(page.locator('#grouping a[aria-current="true"]')).to_have_text("Client")
    headings = _headings(page)
    assert sorted(headings) == sorted(
        ["Kōwhai Bakery", "Rātā Joinery", "Kererū Transport", "Not linked to a client"]
    )
    assert len(set(headings)) == len(headings), "each client once"
    assert "client" not in _columns(page), "the client is said once, above its findings"
    assert "person" in _columns(page)
    kowhai = page.locator("#findings section.group", has_text="Kōwhai Bakery")
    expect(kowhai.locator(".group-head")).to_contain_text("managed by Mia Manager")
    expect(kowhai.locator("tbody tr")).to_contain_text("Ben Brennan")
    dash.screenshot(page, "findings-by-client")

    # Filtering keeps the grouping; so does clearing the filters.
    page.get_by_label("Severity").select_option("critical")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*severity=critical.*"))
    assert "group=client" in page.url
    expect(page.locator("#findings-count")).to_have_text("4 findings")
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(re.compile(r".*/dashboard/findings\?group=client$"))
    expect(page.locator("#findings-count")).to_have_text("12 findings")

    page.locator("#grouping").get_by_role("link", name="Person").click()
    page.wait_for_url(re.compile(r".*/dashboard/findings$"))
    expect(page.locator('#grouping a[aria-current="true"]')).to_have_text("Person")
    assert "Ben Brennan" in _headings(page)
    page.close()


def test_a_bulk_acknowledge_changes_exactly_the_ticked_findings(dash: Dashboard) -> None:
    mallory = finding_id(dash.runtime, "!kow01", f"mallory@{DOMAIN}")
    ghost = finding_id(dash.runtime, "!rat01", f"ghost@{DOMAIN}")
    before = _states(dash)
    events = len(_reviewed(dash))
    page = dash.page("admin")
    page.goto("/dashboard/findings?group=client")
    acknowledge = page.locator("#plan-selected").get_by_role("button", name="Acknowledge")
    expect(acknowledge).to_be_disabled()
    page.get_by_label(f"Select finding {mallory}").check()
    page.get_by_label(f"Select finding {ghost}").check()
    expect(page.locator("#ticked-count")).to_have_text("2 findings ticked")
    acknowledge.click()
    expect(page.get_by_role("status")).to_have_text("Acknowledged: 2 findings.")
    assert "group=client" in page.url, "back to the same list"

    after = _states(dash)
    changed = {i for i in after if after[i] != before[i]}
    assert changed == {mallory, ghost}
    assert after[mallory] == after[ghost] == "acknowledged"
    new = _reviewed(dash)[: len(_reviewed(dash)) - events]
    assert sorted(d["finding_id"] for _, d in new) == sorted([mallory, ghost])  # type: ignore[type-var]
    assert {a for a, _ in new} == {f"Ada Admin (user #{dash.world.user_ids['admin']})"}
    for target in (mallory, ghost):
        expect(page.locator(f'tr[data-finding="{target}"] .state')).to_have_text("Acknowledged")
    page.close()


def test_a_bulk_risk_needs_a_reason_and_a_refusal_changes_nothing(dash: Dashboard) -> None:
    lou = finding_id(dash.runtime, "!tot01", f"lou@{DOMAIN}")
    nia = finding_id(dash.runtime, "!fai01", f"nia@{DOMAIN}")
    before = _states(dash)
    page = dash.page("mia")
    page.goto("/dashboard/findings")
    page.get_by_label(f"Select finding {lou}").check()
    page.get_by_label(f"Select finding {nia}").check()
    until = (utcnow() + timedelta(days=30)).date()
    page.get_by_label("Accepted until").fill(until.isoformat())
    page.locator("#plan-selected").get_by_role("button", name="Accept risk").click()
    expect(page.get_by_role("alert")).to_contain_text("needs a reason")
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")
    assert _states(dash) == before
    expect(page.get_by_label(f"Select finding {lou}")).to_be_checked()  # the ticks stay

    page.get_by_label("Reason").fill("The client asked for both until the audit")
    page.locator("#plan-selected").get_by_role("button", name="Accept risk").click()
    expect(page.get_by_role("status")).to_have_text("Accepted risk: 2 findings.")
    after = _states(dash)
    assert {i for i in after if after[i] != before[i]} == {lou, nia}
    assert after[lou] == after[nia] == "accepted_risk"

    # One finding outside Mia's scope among hers: refused whole, nothing changed.
    rata = finding_id(dash.runtime, "!rat01", f"ben@{DOMAIN}")
    harakeke = finding_id(dash.runtime, MYOB_NURSERY, "anna.active@gmail.example")
    form = {"csrf": _csrf(page), "decision": "removal_requested"}
    answer = page.request.post(
        "/dashboard/findings/review",
        form={**form, "finding_ids": str(harakeke)},
        headers={"Origin": dash.base},
        max_redirects=0,
    )
    assert answer.status == 303, "the same form with Mia's own finding works"
    assert _states(dash)[harakeke] == "removal_requested"
    snapshot = _states(dash)
    refused = page.request.post(
        "/dashboard/findings/review",
        data=f"csrf={form['csrf']}&decision=removal_requested&finding_ids={lou}&finding_ids={rata}",
        headers={"Origin": dash.base, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status == 409
    assert "not in your scope" in refused.text()
    assert _states(dash) == snapshot
    page.close()


def test_bulk_decisions_need_a_reviewer_and_the_forms_token(dash: Dashboard) -> None:
    target = finding_id(dash.runtime, "!unl01", f"ana@{DOMAIN}")
    before = _states(dash)
    eve = dash.page("eve")
    eve.goto("/dashboard/findings")
    expect(eve.locator("#plan-selected")).to_have_count(0)
    refused = eve.request.post(
        "/dashboard/findings/review",
        form={"csrf": _csrf(eve), "decision": "acknowledged", "finding_ids": str(target)},
        headers={"Origin": dash.base},
    )
    assert refused.status == 403
    eve.close()
    admin = dash.page("admin")
    forged = admin.request.post(
        "/dashboard/findings/review",
        form={"csrf": "0" * 64, "decision": "acknowledged", "finding_ids": str(target)},
        headers={"Origin": dash.base},
    )
    assert forged.status == 403
    assert _states(dash) == before
    admin.close()


def test_the_list_fits_1024_pixels_without_sideways_scrolling(dash: Dashboard) -> None:
    context = dash.browser.new_context(base_url=dash.base, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.goto("/dashboard/login")
    page.get_by_label("Pairing code").fill(pairing_code(dash.runtime, dash.world.user_ids["admin"]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{dash.base}/dashboard")
    for path in ("/dashboard/findings", "/dashboard/findings?group=client&resolved=yes"):
        page.goto(path)
        page.get_by_label(re.compile(r"Select finding \d+")).first.check()  # the bulk bar shows
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 1024, f"{path} scrolls sideways: {width}px"
        for cell in (page.locator("#findings th").last, page.locator("#plan-selected button").last):
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= 1024, path
    dash.screenshot(page, "findings-1024")
    context.close()
