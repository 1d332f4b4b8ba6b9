"""The remove buttons and dialogs of the xero and myob pages, clicked in Chromium.

Their script asks in a ``dialog`` (SPEC.md's titles and questions), sends the removal
with the page's CSRF token and shows the result: xero says who was removed and
redraws the table from its JSON; myob drops the card and the count, and the cards
still to load when scrolling arrive whole, none skipped by the removal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.sandbox.removal_world import M_ADMIN, X_MAIN, build
from tests.sandbox.test_portals import Portal, browser_sign_in, start

pytestmark = pytest.mark.browser


@pytest.fixture
def portals() -> Iterator[dict[str, Portal]]:
    world = build()
    running = {name: start(world, name) for name in ("xero", "myob")}
    yield running
    for portal in running.values():
        portal.close()


def test_xero_asks_in_a_dialog_then_removes_and_says_so(browser_loop, portals):
    portal = portals["xero"]

    async def work(browser: Any) -> dict[str, Any]:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await browser_sign_in(page, portal)
            await page.goto(portal.base_url + f"/app/{X_MAIN}/settings/users")
            await page.locator("#users-page[data-state=loaded]").wait_for()
            seen: dict[str, Any] = {
                "before": await page.locator("#user-count").inner_text(),
                "subscriber": await page.get_by_role(
                    "button", name="Remove Person2 Client"
                ).count(),
                "self": await page.get_by_role("button", name="Remove Access Robot").count(),
            }
            await page.get_by_role("button", name="Remove Zoë O'Brien").click()
            dialog = page.get_by_role("dialog", name="Remove user")
            seen["question"] = await dialog.locator("p").inner_text()
            await dialog.get_by_role("button", name="Cancel").click()
            seen["after_cancel"] = await page.get_by_role("dialog").count()
            await page.get_by_role("button", name="Remove Zoë O'Brien").click()
            await dialog.get_by_role("button", name="Remove", exact=True).click()
            await page.get_by_text("Zoë O'Brien was removed").wait_for()
            await page.locator("#users-page[data-state=loaded]").wait_for()
            seen["after"] = await page.locator("#user-count").inner_text()
            seen["row"] = await page.get_by_role("row").filter(has_text="Zoë").count()
            return seen
        finally:
            await context.close()

    seen = browser_loop.run(work, timeout=60)
    assert (seen["before"], seen["subscriber"], seen["self"]) == ("30 users", 0, 0)
    assert seen["question"] == "Remove Zoë O'Brien from Main & Sons <Ltd>?"
    assert seen["after_cancel"] == 0
    assert (seen["after"], seen["row"]) == ("29 users", 0)


def test_myob_drops_the_card_and_the_count_and_still_loads_every_other(browser_loop, portals):
    portal = portals["myob"]

    async def work(browser: Any) -> dict[str, Any]:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await browser_sign_in(page, portal)
            await page.goto(portal.base_url + f"/business/{M_ADMIN}/users")
            showing = page.locator("#showing")
            seen: dict[str, Any] = {
                "before": await showing.inner_text(),
                "owner_added": await page.get_by_text("Added by the business owner").count(),
            }
            await page.get_by_role("button", name="Remove access for Person81 Client").click()
            dialog = page.get_by_role("dialog")
            seen["question"] = await dialog.locator("p").inner_text()
            await dialog.get_by_role("button", name="Remove", exact=True).click()
            await page.get_by_text("Showing 19 of 28").wait_for()
            seen["card"] = await page.get_by_role("article", name="Person81 Client").count()
            cards = page.get_by_role("article")
            for _ in range(20):
                if await page.locator("#users-page[data-state=complete]").count():
                    break
                await cards.last.scroll_into_view_if_needed()
                await page.wait_for_timeout(150)
            seen["after"] = await showing.inner_text()
            seen["ids"] = await cards.evaluate_all("(cs) => cs.map((c) => c.dataset.userId)")
            return seen
        finally:
            await context.close()

    seen = browser_loop.run(work, timeout=60)
    assert (seen["before"], seen["owner_added"]) == ("Showing 20 of 29", 1)
    assert seen["question"] == "Remove Person81 Client's access to Admin Business & Co?"
    assert seen["card"] == 0
    assert seen["after"] == "Showing 28 of 28"
    world_ids = [u.user_id for o in portal.world.orgs if o.org_id == M_ADMIN for u in o.users]
    assert sorted(seen["ids"]) == sorted(world_ids)
    assert "u81" not in seen["ids"]
