"""Removal plans in the dashboard, in a real Chromium: plan, approve, run, follow live.

The practice is ``tests.dashboard.world``'s, with one more scan of Rātā Joinery
(!rat01, Max's client) in which the agent's Xero login holds Manage users, so Ben's
and the unknown address's access there is the practice's to remove; everywhere else
the agent is not in the org and only the client can remove. Pat Partner approves.
No removal is carried out here: the run is only asked for, and the worker's progress
is written to the items as the worker would write it (its run is tested against the
portals elsewhere).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from agent.capture import OrgRef, OrgUsers, PortalUser
from agent.clock import utcnow
from agent.domain import AccessStatus, Portal
from agent.security.users import add_user
from agent.services.findings import reconcile
from agent.services.scans import find_org, record_ok_scan
from agent.storage.db import session_scope
from agent.storage.models import RemovalItem, RemovalPlan
from tests.dashboard.conftest import Dashboard
from tests.dashboard.world import finding_id

DOMAIN = "harbourco.example"
AGENT = f"accessrecon.xero@{DOMAIN}"


@pytest.fixture(scope="module")
def rig(dash: Dashboard) -> Dashboard:
    """The dashboard's practice with the agent able to remove users in !rat01, and a partner."""
    with session_scope(dash.runtime.engine) as session:
        rata = find_org(session, "xero", "!rat01")
        assert rata is not None
        assert rata.id is not None
        users = (
            PortalUser(AGENT, "Access Robot", "STANDARD", AccessStatus.ACTIVE, ("MANAGE_USERS",)),
            PortalUser(f"ben@{DOMAIN}", "Ben Brennan", "FINANCIALADVISER", AccessStatus.ACTIVE),
            PortalUser(f"dee@{DOMAIN}", "Dee Drift", "STANDARD", AccessStatus.ACTIVE),
            PortalUser("owner@rata.example", "Owner of rata", "STANDARD", AccessStatus.ACTIVE),
            PortalUser(f"ghost@{DOMAIN}", "Ghost Writer", "READONLY", AccessStatus.ACTIVE),
        )
        record_ok_scan(
            session,
            org_id=rata.id,
            started_at=utcnow(),
            result=OrgUsers(OrgRef(Portal.XERO, "!rat01", rata.name), users, len(users), "5"),
        )
        reconcile(session, configured_domains=[DOMAIN])
        pat = add_user(session, name="Pat Partner", role="partner", scope="all", actor="test")
    dash.world.user_ids["pat"] = pat.id
    return dash


def _plan_id(page: Page) -> int:
    return int(page.url.split("/removals/")[1].split("?")[0])


def _state(page: Page, item: int) -> str:
    return page.locator(f'#item-{item} [data-field="state"]').inner_text()


def _set_state(rig: Dashboard, item_id: int, state: str, detail: str) -> None:
    """What the worker writes as it carries out an item."""
    with session_scope(rig.runtime.engine) as session:
        item = session.get(RemovalItem, item_id)
        assert item is not None
        item.state, item.detail = state, detail
        session.add(item)


def _items(rig: Dashboard, plan_id: int) -> dict[str, RemovalItem]:
    with Session(rig.runtime.engine) as session:
        rows = session.exec(
            select(RemovalItem).where(RemovalItem.plan_id == plan_id).order_by(col(RemovalItem.id))
        )
        return {row.email: row for row in rows}


def test_a_persons_page_plans_their_removal_and_a_partner_asks_the_client(
    rig: Dashboard,
) -> None:
    page = rig.page("mia")
    page.goto(f"/dashboard/people/{rig.world.staff_ids['Ben Brennan']}")
    page.get_by_role(
        "button", name="Remove everything the practice can, ask the clients for the rest"
    ).click()
    page.wait_for_url("**/dashboard/removals/*?done=planned")
    plan_id = _plan_id(page)
    expect(page.get_by_role("status")).to_contain_text(f"Plan {plan_id} made")
    rows = page.locator("#plan-items tbody tr")
    expect(rows).to_have_count(1)  # Ben is in !rat01 and !unl01 too: not Mia's clients
    row = rows.first
    expect(row).to_contain_text("Kōwhai Bakery Ltd")
    expect(row).to_contain_text("Leaver access")
    expect(row.locator('[data-field="who"]')).to_have_text(
        "Client: accessrecon's login is not a user of this org"
    )
    expect(row).to_contain_text("Ask the client")
    expect(row.locator('[data-field="state"]')).to_have_text("Planned")
    expect(page.locator("#approve-form")).to_have_count(0)
    expect(page.locator("#four-eyes")).to_contain_text("A practice admin or partner")
    rig.screenshot(page, "removal-plan")
    page.close()

    pat = rig.sign_in("pat")
    pat.goto("/dashboard/removals")
    pat.get_by_role("link", name=f"Plan {plan_id}").click()
    pat.get_by_role("button", name="Approve").click()
    pat.wait_for_url(f"**/dashboard/removals/{plan_id}?done=approved")
    item = pat.locator("#plan-items tbody tr").first
    expect(item.locator('[data-field="state"]')).to_have_text("Requested")
    expect(item).to_contain_text("approved by Pat Partner")
    expect(pat.locator("#plan-status")).to_have_text("Waiting on clients")
    pat.context.close()


def test_ticked_findings_make_a_plan_that_is_approved_run_and_followed_live(
    rig: Dashboard,
) -> None:
    ben = finding_id(rig.runtime, "!rat01", f"ben@{DOMAIN}")
    ghost = finding_id(rig.runtime, "!rat01", f"ghost@{DOMAIN}")
    page = rig.page("admin")
    page.goto("/dashboard/findings?q=Rātā")
    page.get_by_label(f"Select finding {ben}").check()
    page.get_by_label(f"Select finding {ghost}").check()
    page.get_by_role("button", name="Plan removal of selected").click()
    page.wait_for_url("**/dashboard/removals/*?done=planned")
    plan_id = _plan_id(page)
    items = _items(rig, plan_id)
    assert set(items) == {f"ben@{DOMAIN}", f"ghost@{DOMAIN}"}
    assert {i.action for i in items.values()} == {"remove"}
    for item in items.values():
        assert item.id is not None
        expect(page.locator(f'#item-{item.id} [data-field="who"]')).to_have_text("Practice")
    # four eyes: the proposer sees no approve form
    expect(page.locator("#approve-form")).to_have_count(0)
    expect(page.locator("#four-eyes")).to_contain_text("You proposed this plan")
    expect(page.locator("#run-form")).to_have_count(0)

    pat = rig.sign_in("pat")
    pat.goto(f"/dashboard/removals/{plan_id}")
    pat.get_by_role("button", name="Approve").click()
    pat.wait_for_url(f"**/dashboard/removals/{plan_id}?done=approved")
    ben_item, ghost_item = items[f"ben@{DOMAIN}"].id, items[f"ghost@{DOMAIN}"].id
    assert ben_item is not None
    assert ghost_item is not None
    expect(pat.locator(f'#item-{ben_item} [data-field="state"]')).to_have_text("Approved")
    pat.context.close()

    page.goto(f"/dashboard/removals/{plan_id}")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(f"**/dashboard/removals/{plan_id}?done=run")
    expect(page.get_by_role("status")).to_contain_text("Run requested")
    expect(page.locator("#run-requested")).to_contain_text("Ada Admin")
    expect(page.locator("#live-status")).to_have_text("Updating live")
    with Session(rig.runtime.engine) as session:
        plan = session.get(RemovalPlan, plan_id)
        assert plan is not None
        assert plan.run_requested_at is not None

    # the worker's progress shows without a reload
    page.evaluate("window.stillTheSamePage = true")
    _set_state(rig, ben_item, "running", "removing through the portal")
    expect(page.locator(f'#item-{ben_item} [data-field="state"]')).to_have_text("Running")
    expect(page.locator(f'#item-{ben_item} [data-field="detail"]')).to_have_text(
        "removing through the portal"
    )
    expect(page.locator("#plan-status")).to_have_text("Running")
    _set_state(rig, ben_item, "removed", "the portal confirmed the removal")
    _set_state(rig, ghost_item, "removed", "the portal confirmed the removal")
    expect(page.locator(f'#item-{ghost_item} [data-field="state"]')).to_have_text("Removed")
    expect(page.locator("#plan-status")).to_have_text("Awaiting verification")
    _set_state(rig, ben_item, "verified", "scan showed the access gone")
    _set_state(rig, ghost_item, "verified", "scan showed the access gone")
    expect(page.locator(f'#item-{ben_item} [data-field="state"]')).to_have_text("Verified")
    expect(page.locator("#live-status")).to_have_text("Nothing in progress")
    expect(page.locator("#plan-status")).to_have_text("Done")
    expect(page.locator("#run-form")).to_be_hidden()
    assert page.evaluate("window.stillTheSamePage") is True
    rig.screenshot(page, "removal-plan-live")
    feed = page.request.get(f"/dashboard/removals/{plan_id}/live.json").json()
    assert {i["id"]: i["state"] for i in feed["items"]} == {
        ben_item: "verified",
        ghost_item: "verified",
    }
    page.close()
    anonymous = rig.context()
    answer = anonymous.request.get(rig.url(f"/dashboard/removals/{plan_id}/live.json"))
    assert answer.status == 401
    anonymous.close()


def test_employees_read_plans_but_do_not_make_them_and_scope_holds(rig: Dashboard) -> None:
    mia = rig.page("mia")
    mia.goto(f"/dashboard/people/{rig.world.staff_ids['Ben Brennan']}")
    mia.locator("#plan-person button").click()
    mia.wait_for_url("**/dashboard/removals/*?done=planned")
    mias_plan = _plan_id(mia)
    mia.close()

    eve = rig.page("eve")  # an employee; her one client is Rātā
    eve.goto(f"/dashboard/people/{rig.world.staff_ids['Ben Brennan']}")
    expect(eve.locator("#plan-person")).to_have_count(0)
    eve.goto("/dashboard/findings")
    expect(eve.locator('input[name="finding_ids"]')).to_have_count(0)
    expect(eve.locator("#plan-selected")).to_have_count(0)
    eve.goto("/dashboard/people")
    csrf = eve.locator('form[action="/dashboard/logout"] input[name="csrf"]').get_attribute("value")
    refused = eve.request.post(
        "/dashboard/removals",
        form={
            "csrf": csrf or "",
            "finding_ids": str(finding_id(rig.runtime, "!rat01", f"ben@{DOMAIN}")),
        },
        headers={"Origin": rig.base},
    )
    assert refused.status == 403
    assert "only practice admins, partners and managers propose" in refused.text()
    forged = eve.request.post(
        "/dashboard/removals", form={"staff_id": "1"}, headers={"Origin": rig.base}
    )
    assert forged.status == 403
    assert "form has expired" in forged.text()
    answer = eve.goto(f"/dashboard/removals/{mias_plan}")
    assert answer is not None
    assert answer.status == 404, "Mia's plan lies on Kōwhai only: not Eve's client"
    eve.goto("/dashboard/removals")
    expect(eve.locator(f'tr[data-plan="{mias_plan}"]')).to_have_count(0)
    eve.close()

    max_ = rig.page("max")
    max_.get_by_role("link", name="Removals").click()
    expect(max_.locator(f'tr[data-plan="{mias_plan}"]')).to_have_count(0)
    max_.close()
