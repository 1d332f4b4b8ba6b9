"""Every saved portal page in ``tests/fixtures/portal/`` reads as it did when exported.

Each file is a users page captured from the sandbox by the extension (redacted in the
browser; ``scripts/capture_portal_fixtures.py``) with what the shipped recipe read of
it: the users, or, for a page of a layout the recipe does not read, the message
naming the recipe key that found nothing. A change to a recipe or to the readers
that changes either fails here. A fixture saved from a real portal for support is
added the same way: ``accessrecon portal fixtures export N -o tests/fixtures/portal/…``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser

from accessrecon.commands.portal_fixtures import fixture_from_file
from agent.scrapers.recipe_book import load_book
from agent.scrapers.replay import ReplayResult, replay, user_record
from agent.services.fixtures import unredacted_email
from tests.browser_loop import BrowserLoop

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "portal").glob("*.json"))


def test_there_are_fixtures_of_every_portal_in_both_layouts() -> None:
    names = {path.stem for path in FIXTURES}
    for portal in ("xero", "qbo", "myob"):
        assert any(n.startswith(f"{portal}-") and not n.endswith("-layout2") for n in names)
        assert any(n.startswith(f"{portal}-") and n.endswith("-layout2") for n in names)


@pytest.mark.browser
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_a_saved_page_reads_as_it_did_when_exported(path: Path, browser_loop: BrowserLoop) -> None:
    facts, fixture = fixture_from_file(path)
    assert unredacted_email(json.dumps(facts["content"], ensure_ascii=False)) is None
    shipped = load_book()[fixture.portal]

    async def work(browser: Browser) -> ReplayResult:
        context = await browser.new_context()
        try:
            return await replay(fixture, shipped, context)
        finally:
            await context.close()

    result = browser_loop.run(work)
    expected = facts["expected"]
    assert result.error == expected["error"]
    assert [user_record(u) for u in result.users] == expected["users"]
    assert result.total == expected["total"]
    assert result.evidence == expected["evidence"]
    assert json.loads(json.dumps(facts["content"])) == facts["content"]
