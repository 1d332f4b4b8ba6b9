"""Removals from the browser: the popup proposes, the banner says what the client was asked.

The rig is ``tests.extension``'s (the sandbox portals, the real server, the unpacked
extension in Chromium). The popup's "Request removal" only makes a plan on the
server; nothing is removed, here or anywhere, until a second person approves it and
the worker runs it (tested elsewhere). In Kauri Accounting (qbo A) the agent sits on
the Accounting firms tab, so only the client can remove Ben from the Users tab:
approving his removal asks the client, and the banner says since when.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.security.users import add_user, principal_of
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.storage.db import session_scope
from agent.storage.models import AppUser, ClientRequest, Finding, Org, RemovalItem, RemovalPlan
from tests.extension import harness
from tests.extension.conftest import Rig
from tests.extension.harness import QBO_A, shadow_texts, wait_for

pytestmark = pytest.mark.browser

BEN = f"ben@{harness.DOMAIN}"
BANNER = "accessrecon-banner"


@pytest.fixture
def pages(rig: Rig) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for page in opened:
        page.close()


@pytest.fixture
def paired_as(rig: Rig) -> Iterator[Callable[[int], None]]:
    """Pair the browser as another user for a test; the rig's admin again afterwards."""

    def pair(user_id: int) -> None:
        rig.ext.pair(harness.pairing_code(rig.runtime, user_id)).close()

    yield pair
    pair(rig.admin_id)


def _open(rig: Rig, pages: list[Page], portal: str, path: str) -> tuple[Page, int]:
    page = rig.open(portal, path)
    pages.append(page)
    tab = rig.ext.tab_id(page)
    wait_for(lambda: rig.ext.badge(tab)["text"], what="a badge")
    return page, tab


def _popup(rig: Rig, pages: list[Page], tab: int) -> Page:
    popup = rig.ext.new_page()
    pages.append(popup)
    popup.set_viewport_size({"width": 380, "height": 640})
    popup.goto(rig.ext.url(f"popup.html?tab={tab}"))
    popup.locator("body[data-state]").wait_for()
    return popup


def _finding(rig: Rig, org_id: str, email: str = BEN) -> int:
    with Session(rig.runtime.engine) as session:
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


def _user(rig: Rig, name: str, role: str, scope: str) -> int:
    with session_scope(rig.runtime.engine) as session:
        return add_user(session, name=name, role=role, scope=scope, actor="test").id


def test_the_popup_requests_removal_and_removes_nothing(rig: Rig, pages: list[Page]) -> None:
    finding = _finding(rig, "!crit1")
    page, tab = _open(rig, pages, "xero", "/app/!crit1/homepage")
    popup = _popup(rig, pages, tab)
    item = popup.locator(f'li[data-finding="{finding}"]')
    expect(item).to_contain_text("Ben Brennan")
    item.get_by_role("button", name="Request removal").click()
    # the plan is made by the server and the worker's round trip: slow on a busy machine
    expect(item.locator(".removal")).to_have_text(
        re.compile(r"^plan \d+ made: waiting for approval$"), timeout=30_000
    )
    expect(item.get_by_role("button", name="Request removal")).to_be_hidden()
    plan_id = int(item.locator(".removal").inner_text().split()[1])
    harness.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    popup.screenshot(path=str(harness.SCREENSHOTS / "extension-popup-removal.png"))

    with Session(rig.runtime.engine) as session:
        plan = session.get(RemovalPlan, plan_id)
        assert plan is not None
        assert plan.proposed_by_user_id == rig.admin_id
        assert plan.run_requested_at is None
        [row] = session.exec(select(RemovalItem).where(RemovalItem.plan_id == plan_id)).all()
        assert (row.finding_id, row.email, row.state) == (finding, BEN, "planned")
        assert (row.removable_by, row.action) == ("practice", "remove")
    # nothing was removed: the portal still lists Ben, and the badge still counts him
    page.goto(rig.portals.url("xero", "/app/!crit1/settings/users"))
    expect(page.get_by_text(BEN)).to_be_visible()
    rig.ext.wait_badge(page, "2")


def test_a_role_that_may_not_propose_gets_no_button_and_the_servers_refusal(
    rig: Rig, pages: list[Page], paired_as: Callable[[int], None]
) -> None:
    mia = _user(rig, "Mia Manager", "manager", "managed")
    paired_as(mia)
    # the practice makes Mia an employee after her browser was paired
    with session_scope(rig.runtime.engine) as session:
        user = session.get(AppUser, mia)
        assert user is not None
        user.role = "employee"
        session.add(user)
    finding = _finding(rig, "!crit1", f"mallory@{harness.DOMAIN}")
    _, tab = _open(rig, pages, "xero", "/app/!crit1/settings/users")
    popup = _popup(rig, pages, tab)
    item = popup.locator(f'li[data-finding="{finding}"]')
    item.get_by_role("button", name="Request removal").click()
    expect(item.locator(".removal.failed")).to_have_text(
        "Mia Manager is employee: only practice admins, partners and managers propose removals"
    )
    with Session(rig.runtime.engine) as session:
        assert not session.exec(
            select(RemovalItem).where(RemovalItem.finding_id == finding)
        ).first()

    eve = _user(rig, "Eve Employee", "employee", "all")
    paired_as(eve)
    popup = _popup(rig, pages, tab)
    expect(popup.locator(f'li[data-finding="{finding}"]')).to_contain_text("Invited direct")
    expect(popup.get_by_role("button", name="Request removal")).to_have_count(0)


def test_the_banner_says_when_the_client_was_asked_to_remove(rig: Rig, pages: list[Page]) -> None:
    finding = _finding(rig, QBO_A)
    pat = _user(rig, "Pat Partner", "partner", "all")
    with session_scope(rig.runtime.engine) as session:
        plan = plan_removals(
            session, principal_of(session, rig.admin_id), PlanRequest(finding_ids=(finding,))
        )
        assert plan.id is not None
        approval = approve_plan(
            session, principal_of(session, pat), plan.id, settings=rig.runtime.settings
        )
        assert approval.requested, "the agent is not a company admin: the client is asked"
    with Session(rig.runtime.engine) as session:
        [request] = session.exec(select(ClientRequest)).all()
        assert request.email == BEN
    today = utcnow().date()
    on = f"{today.day} {today:%b} {today.year}"

    page, tab = _open(rig, pages, "qbo", f"/app/company/{QBO_A}/manageusers")
    wanted = f"Ben Brennan: removal requested from the client on {on}"
    text = wait_for(
        lambda: next((t for t in shadow_texts(page, BANNER) if wanted in t), None),
        what="the banner's line about the client",
    )
    assert "accessrecon · 1 open finding" in text
    page.screenshot(path=str(harness.SCREENSHOTS / "extension-banner-client-asked.png"))
    popup = _popup(rig, pages, tab)
    item = popup.locator(f'li[data-finding="{finding}"]')
    expect(item.locator(".asked")).to_have_text(f"Removal requested from the client on {on}")
    expect(item).to_contain_text("Removal requested")
    # who can remove it, with the reason the scan gave
    expect(item.locator(".removable")).to_have_text(
        "Only the client can remove it: accessrecon's login is not a company admin here"
    )
