"""Save this page for support: capture on the sandbox, redacted in the page, replayed offline.

A person presses "Save this page for support" in the popup on an org's users page; the
extension (real Chromium) fetches what the recipe in use reads, redacts it in the page
and the server stores it. Replaying the stored fixture with the shipped recipe must
give the users the sandbox world shows (statuses, roles, kinds, counts), with names
and e-mails as placeholders, and no name or e-mail of the world may be anywhere in
what was stored. A capture of a page in the portal's layout 2 replays with the shipped
recipe to the message naming the recipe key that found nothing, and with the layout-2
recipe (``tests/scrapers/recipes_v2``) to the same users.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest
from playwright.async_api import Browser
from playwright.sync_api import Page
from sqlmodel import Session, select

from agent.domain import Portal
from agent.scrapers.fields import status_of
from agent.scrapers.recipe_book import LoadedRecipe, load_book
from agent.scrapers.replay import ReplayResult, recipe_from_file, replay
from agent.services.fixtures import fixture_of
from agent.storage.models import AuditEvent, PortalFixture
from sandbox.portals import qbo
from sandbox.portals.common import update_settings
from sandbox.world import World, WorldOrg, WorldUser
from tests.extension.conftest import Rig
from tests.extension.harness import (
    HOSTILE,
    HOSTILE_ORG,
    MYOB_A,
    QBO_A,
    QBO_B,
    QBO_C,
    org_of,
    wait_for,
)

pytestmark = pytest.mark.browser

LAYOUT_2 = Path(__file__).resolve().parents[1] / "scrapers" / "recipes_v2"
PLACEHOLDER_EMAIL = re.compile(r"person(\d+)@example\.invalid")
PLACEHOLDER_NAME = re.compile(r"Person (\d+)")

#: one users page per portal: (portal, org id, the users page's path)
PAGES = [
    ("xero", "!crit1", "/app/!crit1/settings/users"),
    ("qbo", QBO_A, f"/app/company/{QBO_A}/manageusers?tab=users"),
    ("qbo", QBO_C, f"/app/company/{QBO_C}/manageusers?tab=firms"),
    ("myob", MYOB_A, f"/business/{MYOB_A}/users"),
]


@pytest.fixture
def pages(rig: Rig) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for page in opened:
        page.close()


def save_for_support(rig: Rig, pages: list[Page], portal: str, path: str) -> PortalFixture:
    """Open the users page, press "Save this page for support" in its popup: the fixture."""
    page = rig.open(portal, path)
    pages.append(page)
    tab = rig.ext.tab_id(page)
    wait_for(lambda: rig.ext.badge(tab)["text"], what="the page to ask the worker")
    popup = rig.ext.new_page()
    pages.append(popup)
    popup.goto(rig.ext.url(f"popup.html?tab={tab}"))
    popup.locator("body[data-state]").wait_for()
    status = popup.locator("#support-status")

    def saved() -> str:
        text = status.inner_text()
        if not text or text.startswith("Saving"):
            return ""
        if "not running in this page yet" in text:  # the content script is still starting
            popup.get_by_role("button", name="Save this page for support").click()
            return ""
        return text

    popup.get_by_role("button", name="Save this page for support").click()
    said = wait_for(saved, timeout_s=60, interval_s=0.2, what="the page to be saved")
    assert said.startswith("Saved for support as fixture "), said
    fixture_id = int(said.removeprefix("Saved for support as fixture ").split(" ", 1)[0])
    with Session(rig.runtime.engine) as session:
        row = session.get(PortalFixture, fixture_id)
        assert row is not None
        session.expunge(row)
    return row


def replayed(rig: Rig, row: PortalFixture, loaded: LoadedRecipe) -> ReplayResult:
    fixture = fixture_of(row)

    async def work(browser: Browser) -> ReplayResult:
        context = await browser.new_context()
        try:
            return await replay(fixture, loaded, context)
        finally:
            await context.close()

    return rig.browser_loop.run(work)


def shown(portal: str, user: WorldUser) -> tuple[str, str, str | None, tuple[str, ...]]:
    """What the portal shows of a user, as the recipe reads it: status, role, kind, extras."""
    values = load_book()[portal].recipe.values
    status = str(status_of(user.status, values, "world"))
    if portal == "xero":
        return status, user.role, None, tuple(user.extra_permissions)
    if portal == "qbo":
        return status, qbo.user_type(user), qbo.tab_of(user), ()
    return status, user.role, user.kind, tuple(user.myob_roles)


def assert_same_users(result: ReplayResult, org: WorldOrg) -> None:
    assert result.ok, result.error
    assert len(result.users) == len(org.users)
    read = Counter(
        (str(u.status), u.role, u.kind, tuple(u.extra_permissions)) for u in result.users
    )
    assert read == Counter(shown(org.portal, u) for u in org.users)
    emails = [u.email for u in result.users]
    assert all(PLACEHOLDER_EMAIL.fullmatch(e) for e in emails), emails
    assert len(set(emails)) == len(emails)
    for user in result.users:
        name = PLACEHOLDER_NAME.fullmatch(user.name)
        email = PLACEHOLDER_EMAIL.fullmatch(user.email)
        assert name is not None, user
        assert email is not None, user
        assert name.group(1) == email.group(1), "a row's name and e-mail share a number"


def assert_nothing_real(rig: Rig, world: World, row: PortalFixture) -> None:
    """No e-mail, name or org name of the world, and no cookie, anywhere in the fixture."""
    stored = row.content.casefold()
    secrets = {c["value"] for c in rig.ext.context.cookies()}
    people = {u.email for o in world.orgs for u in o.users} | {s.name for s in world.staff}
    people |= {u.name for o in world.orgs for u in o.users if " " in u.name}
    people |= {HOSTILE, HOSTILE_ORG, world.practice_name} | {o.name for o in world.orgs}
    for text in people | secrets:
        for form in {text, escape(text, quote=False), json.dumps(text)[1:-1]}:
            assert form.casefold() not in stored, f"{text!r} is in the stored fixture"
    assert re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", row.content) == [
        m.group(0) for m in PLACEHOLDER_EMAIL.finditer(row.content)
    ]
    assert "<script" not in stored
    assert "csrf" not in stored


@pytest.mark.parametrize(("portal", "org_id", "path"), PAGES, ids=[p[1] for p in PAGES])
def test_a_saved_page_replays_to_the_users_the_portal_shows(
    rig: Rig, pages: list[Page], portal: str, org_id: str, path: str
) -> None:
    row = save_for_support(rig, pages, portal, path)
    org = org_of(rig.world, portal, org_id)
    shipped = load_book()[Portal(portal)]
    assert (row.portal, row.portal_org_id, row.recipe) == (portal, org_id, shipped.label)
    assert row.kind == ("html" if portal == "qbo" else "json")
    assert row.recipe_read
    assert row.page_path == path.split("?")[0]
    assert_nothing_real(rig, rig.world, row)
    assert_same_users(replayed(rig, row, shipped), org)
    with Session(rig.runtime.engine) as session:
        event = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "fixture.saved")
            .order_by(
                AuditEvent.id.desc()  # type: ignore[union-attr]
            )
        ).first()
    assert event is not None
    assert event.detail["fixture_id"] == row.id
    assert event.detail["sha256"] == row.sha256
    assert event.actor.startswith("Ada Admin")


def test_quickbooks_saves_every_page_of_both_lists(rig: Rig, pages: list[Page]) -> None:
    row = save_for_support(rig, pages, "qbo", f"/app/company/{QBO_C}/manageusers")
    captured = [(p.list, p.page) for p in fixture_of(row).pages]
    assert captured == [("users", 1), ("users", 2), ("firms", 1)]
    html = " ".join(p.html for p in fixture_of(row).pages)
    assert "1-25 of 30" in html
    assert "26-30 of 30" in html
    # only the list: not the tabs, the org bar or the page's other links
    assert "Back to clients" not in html
    assert "Accounting firms" not in html
    assert "Rimu Retail" not in html


@pytest.mark.parametrize("org_id", [QBO_A, QBO_B])
def test_quickbooks_in_another_markup_replays_the_same(
    rig: Rig, pages: list[Page], org_id: str
) -> None:
    """Columns in another order, an Action column, the range beside the pager's links and
    the empty text inside the table: what SPEC leaves open, read as the recipe reads it."""
    app = rig.portals.apps["qbo"]
    update_settings(app, markup_variant=True)
    try:
        row = save_for_support(rig, pages, "qbo", f"/app/company/{org_id}/manageusers")
    finally:
        update_settings(app, markup_variant=False)
    assert row.recipe_read
    assert_nothing_real(rig, rig.world, row)
    assert_same_users(replayed(rig, row, load_book()[Portal.QBO]), org_of(rig.world, "qbo", org_id))


@pytest.mark.parametrize(("portal", "org_id", "path"), PAGES, ids=[p[1] for p in PAGES])
def test_a_page_of_layout_2_names_the_keys_that_found_nothing_and_a_fixed_recipe_reads_it(
    rig: Rig, pages: list[Page], portal: str, org_id: str, path: str
) -> None:
    app = rig.portals.apps[portal]
    update_settings(app, layout_version=2)
    try:
        row = save_for_support(rig, pages, portal, path)
    finally:
        update_settings(app, layout_version=1)
    assert not row.recipe_read
    assert_nothing_real(rig, rig.world, row)
    failed = replayed(rig, row, load_book()[Portal(portal)])
    assert not failed.ok
    assert failed.users == ()
    expected = {
        "xero": "the users JSON has no list at 'users' (recipe users.rows)",
        "myob": "the users JSON has no list at 'items' (recipe users.rows)",
        "qbo": "the users list has no table with columns Name, Email, User type, Status"
        " (recipe users.lists[0].table)",
    }
    assert expected[portal] in str(failed.error)
    fixed = replayed(rig, row, recipe_from_file(Portal(portal), LAYOUT_2 / f"{portal}.toml"))
    assert fixed.ok, fixed.error
    assert fixed.recipe == f"{portal}@2026.12.1-layout2 (override)"
    org = org_of(rig.world, portal, org_id)
    assert len(fixed.users) == len(org.users)
    values = load_book()[Portal(portal)].recipe.values
    assert Counter(str(u.status) for u in fixed.users) == Counter(
        str(status_of(u.status, values, "world")) for u in org.users
    )
    assert all(PLACEHOLDER_EMAIL.fullmatch(u.email) for u in fixed.users)


def test_an_org_outside_the_users_page_offers_no_save(rig: Rig, pages: list[Page]) -> None:
    page = rig.open("xero", "/app/!zero1/homepage")
    pages.append(page)
    tab = rig.ext.tab_id(page)
    wait_for(lambda: rig.ext.badge(tab)["text"], what="the page to ask the worker")
    popup = rig.ext.new_page()
    pages.append(popup)
    popup.goto(rig.ext.url(f"popup.html?tab={tab}"))
    popup.locator("body[data-state]").wait_for()
    assert popup.get_by_role("button", name="Re-scan now").is_visible()
    assert popup.get_by_role("button", name="Save this page for support").count() == 0
    answer = popup.evaluate(
        "tabId => chrome.runtime.sendMessage({type: 'save-fixture', tabId})", tab
    )
    assert answer == {"error": "open the org's users page first: that is the page saved"}
