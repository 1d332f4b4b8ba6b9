"""Replaying a saved users page offline: the same parsing and evidence as a live scan.

The pages are the sandbox captures of ``tests/fixtures/portal`` (redacted by the
extension), changed here the way a portal changes or a capture goes wrong: a key
renamed, a page missing, a list missing. Markup is read by the real Chromium.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from accessrecon.commands.portal_fixtures import fixture_from_file
from agent.domain import FailureReason, Portal
from agent.scrapers.recipe_book import LoadedRecipe, RecipeError, load_book
from agent.scrapers.replay import (
    Fixture,
    FixtureError,
    ReplayResult,
    content_of,
    content_text,
    fixture_pages,
    recipe_from_file,
    replay,
)
from tests.browser_loop import BrowserLoop

FIXTURES = Path(__file__).parent / "fixtures" / "portal"
LAYOUT_2 = Path(__file__).parent / "scrapers" / "recipes_v2"


def saved(name: str) -> Fixture:
    return fixture_from_file(FIXTURES / f"{name}.json")[1]


def run(
    browser_loop: BrowserLoop, fixture: Fixture, loaded: LoadedRecipe | None = None
) -> ReplayResult:
    recipe = loaded or load_book()[fixture.portal]

    async def work(browser: Browser) -> ReplayResult:
        context = await browser.new_context()
        try:
            return await replay(fixture, recipe, context)
        finally:
            await context.close()

    return browser_loop.run(work)


def with_body(fixture: Fixture, change: Any) -> Fixture:
    body = copy.deepcopy(fixture.pages[0].body)
    change(body)
    return replace(fixture, pages=(replace(fixture.pages[0], body=body), *fixture.pages[1:]))


# ---------------------------------------------------------------------------- format


@pytest.mark.parametrize(
    ("kind", "content", "says"),
    [
        ("csv", {"format": 1, "pages": [{}]}, "kind 'csv' is not a kind of fixture"),
        ("json", [], "the content is not a JSON object"),
        ("json", {"format": 1, "pages": []}, "the content holds no pages"),
        ("json", {"format": 1, "pages": [{}], "cookies": []}, "keys a capture does not: cookies"),
        ("json", {"format": 1, "pages": [{"path": "x", "body": {}}]}, "pages[0].path is not"),
        ("json", {"format": 1, "pages": [{"path": "/a", "body": {}, "html": ""}]}, "path and body"),
        (
            "html",
            {"format": 1, "pages": [{"path": "/a", "list": "", "page": 1, "html": ""}]},
            "list",
        ),
        (
            "html",
            {"format": 1, "pages": [{"path": "/a", "list": "u", "page": 0, "html": ""}]},
            "page",
        ),
        (
            "html",
            {"format": 1, "pages": [{"path": "/a", "list": "u", "page": 1, "html": 3}]},
            "text",
        ),
    ],
)
def test_a_content_that_is_not_a_capture_is_named(kind: str, content: Any, says: str) -> None:
    with pytest.raises(FixtureError) as refused:
        fixture_pages(kind, content)
    assert says in str(refused.value)


def test_content_is_stored_as_it_reads_back() -> None:
    fixture = saved("qbo-paged")
    content = content_of(fixture.pages, "html")
    assert fixture_pages("html", json.loads(content_text(content))) == fixture.pages


# ------------------------------------------------------------------------------- JSON


def test_a_json_page_gives_its_users_with_the_json_total_as_evidence(
    browser_loop: BrowserLoop,
) -> None:
    result = run(browser_loop, saved("myob-cards"))
    assert result.ok
    assert (len(result.users), result.total, result.evidence) == (24, 24, "JSON total 24")
    advisor = result.users[0]
    assert (advisor.role, advisor.kind, advisor.extra_permissions) == (
        "Online admin",
        "Advisor",
        ("Administrator",),
    )
    assert advisor.added_by_owner is False
    assert result.recipe == load_book()[Portal.MYOB].label


@pytest.mark.parametrize(
    ("change", "says", "reason"),
    [
        (
            lambda b: [u.pop("email") for u in b["users"]],
            "a user in the users JSON has no 'email' (recipe users.fields.email)",
            FailureReason.LAYOUT_CHANGED,
        ),
        (
            lambda b: b.update(total="5"),
            "the users JSON has no count at 'total' (recipe users.total)",
            FailureReason.LAYOUT_CHANGED,
        ),
        (
            lambda b: b.update(total=6),
            "the users JSON says 6 users but its 1 captured page list 5",
            FailureReason.PORTAL_ERROR,
        ),
        (
            lambda b: b["users"][0].update(status="SUSPENDED"),
            "unknown status 'SUSPENDED' (recipe users.fields.status",
            FailureReason.LAYOUT_CHANGED,
        ),
    ],
)
def test_what_the_recipe_cannot_read_is_named_by_its_key(
    browser_loop: BrowserLoop, change: Any, says: str, reason: FailureReason
) -> None:
    result = run(browser_loop, with_body(saved("xero-hostile-names"), change))
    assert not result.ok
    assert result.users == ()
    assert says in str(result.error)
    assert result.reason == reason


def test_a_fixture_of_the_other_kind_names_users_read(browser_loop: BrowserLoop) -> None:
    json_fixture = saved("xero-hostile-names")
    as_qbo = replace(json_fixture, portal=Portal.QBO, portal_org_id="1234567890123")
    result = run(browser_loop, as_qbo)
    assert (
        result.error
        == "the recipe reads the users as pages, the fixture holds json (recipe users.read)"
    )
    with pytest.raises(FixtureError, match="the recipe is xero's, the fixture was saved from qbo"):
        run(browser_loop, as_qbo, load_book()[Portal.XERO])


# ----------------------------------------------------------------------------- markup


def test_every_page_of_every_list_is_read_by_the_browser(browser_loop: BrowserLoop) -> None:
    result = run(browser_loop, saved("qbo-paged"))
    assert result.ok, result.error
    assert result.evidence == "users: 30; firms: 1"
    assert len(result.users) == 31
    assert [u.kind for u in result.users] == ["users"] * 30 + ["firms"]
    assert result.users[-1].role == "Accountant"
    assert result.users[-1].firm == "Firm 1"


def test_a_missing_page_or_list_is_named(browser_loop: BrowserLoop) -> None:
    fixture = saved("qbo-paged")
    no_second = replace(fixture, pages=tuple(p for p in fixture.pages if p.page == 1))
    result = run(browser_loop, no_second)
    assert result.error == "the fixture's 1 page(s) of the users list end at 1-25 of 30"
    no_firms = replace(fixture, pages=tuple(p for p in fixture.pages if p.list == "users"))
    result = run(browser_loop, no_firms)
    assert result.error == (
        "the fixture holds no page of the firms list, only of users (recipe users.lists[1].name)"
    )
    skipped = replace(fixture, pages=tuple(p for p in fixture.pages if p.page != 1))
    assert "the fixture lacks page 1 of the users list" in str(run(browser_loop, skipped).error)


def test_ids_come_from_the_id_links_the_capture_kept(browser_loop: BrowserLoop) -> None:
    result = run(browser_loop, saved("qbo-two-tabs"))
    assert [u.portal_user_id for u in result.users] == [None, None, None, "u0028"]


# ---------------------------------------------------------------------- a fixed recipe


@pytest.mark.parametrize("portal", ["xero", "qbo", "myob"])
def test_a_layout_2_page_reads_with_the_layout_2_recipe(
    browser_loop: BrowserLoop, portal: str
) -> None:
    name = {"xero": "xero-hostile-names", "qbo": "qbo-paged", "myob": "myob-cards"}[portal]
    changed = saved(f"{name}-layout2")
    assert not run(browser_loop, changed).ok
    fixed = run(
        browser_loop, changed, recipe_from_file(Portal(portal), LAYOUT_2 / f"{portal}.toml")
    )
    assert fixed.ok, fixed.error
    before = run(browser_loop, saved(name))
    assert len(fixed.users) == len(before.users)
    assert [u.status for u in fixed.users] == [u.status for u in before.users]
    assert [u.email for u in fixed.users] == [u.email for u in before.users]
    assert [u.portal_user_id is not None for u in fixed.users] == [True] * len(fixed.users)


def test_a_recipe_file_is_checked_as_an_override(tmp_path: Path) -> None:
    unversioned = tmp_path / "fix.toml"
    unversioned.write_text('[users]\nrows = "members"\n', "utf-8")
    with pytest.raises(RecipeError, match=r"fix\.toml: version: an override must give"):
        recipe_from_file(Portal.XERO, unversioned)
    misspelt = tmp_path / "typo.toml"
    misspelt.write_text('version = "3"\n[users]\nrowz = "members"\n', "utf-8")
    with pytest.raises(RecipeError, match=r"typo\.toml: users\.rowz: not a key of a recipe"):
        recipe_from_file(Portal.XERO, misspelt)
    with pytest.raises(RecipeError, match="cannot be read"):
        recipe_from_file(Portal.XERO, tmp_path / "absent.toml")
    loaded = recipe_from_file(Portal.XERO, LAYOUT_2 / "xero.toml")
    assert loaded.sources == ("agent/scrapers/recipes/xero.toml", str(LAYOUT_2 / "xero.toml"))
    assert loaded.recipe.sign_in == load_book()[Portal.XERO].recipe.sign_in
