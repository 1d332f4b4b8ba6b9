"""Every dashboard page, at 1366 and 1024 pixels wide, looks as its reviewed picture.

The pictures in ``tests/visual/reference/`` were looked at and accepted; a change to
a page is a change to its picture, regenerated with ``ACCESSRECON_UPDATE_REFERENCES=1``
and reviewed in the same change (tests/visual/README.md). One test walks every page
so the practice is built and served once; it names every page and width that
differs, not only the first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.visual.compare import REFERENCES, compare
from tests.visual.conftest import WIDTHS, FrozenDashboard
from tests.visual.pages import SHOTS, page_routes

pytestmark = pytest.mark.browser

#: a list whose second column starts further right, and one letter of a word changed
#: in a sentence (a few hundred pixels); through the CSSOM and the DOM, since the
#: dashboard's CSP refuses a page's own <style> elements
MOVED_COLUMN = """
const cells = document.querySelectorAll("main table tr > :nth-child(2)");
if (!cells.length) throw new Error("no table on the page");
for (const cell of cells) cell.style.paddingLeft = "2.5em";
"""
CHANGED_LETTER = """
const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
let text = null;
while (walker.nextNode()) {
  if (walker.currentNode.parentElement.closest("p") && /[a-z]{5}/.test(walker.currentNode.data)) {
    text = walker.currentNode;
    break;
  }
}
if (!text) throw new Error("no sentence on the page");
text.data = text.data.replace(/([a-z]{4})([a-z])/, (_, head, letter) =>
  head + (letter === "x" ? "z" : "x"));
"""


def test_every_page_a_person_can_open_has_a_shot() -> None:
    covered = {shot.route for shot in SHOTS if shot.route is not None}
    assert page_routes() - covered == set(), "dashboard pages with no screenshot"
    assert covered - page_routes() == set(), "screenshots of routes that are gone"
    pictures = {f"{shot.name}-{width}.png" for shot in SHOTS for width in WIDTHS}
    stale = {p.name for p in REFERENCES.glob("*.png")} - pictures
    assert stale == set(), "references of no page: delete them"


def test_every_page_looks_as_reviewed(frozen: FrozenDashboard) -> None:
    problems: list[str] = []
    for shot in SHOTS:
        for width in WIDTHS:
            page, wrong = frozen.open(shot, width)
            found = None if wrong else compare(f"{shot.name}-{width}", frozen.screenshot(page))
            problems += [wrong] if wrong else [str(found)] if found else []
    assert not problems, "pages unlike their reviewed pictures:\n" + "\n".join(problems)


def test_the_comparison_reports_a_moved_column_and_a_changed_word(
    frozen: FrozenDashboard, tmp_path: Path
) -> None:
    people = next(shot for shot in SHOTS if shot.name == "people")
    page, wrong = frozen.open(people, 1366)
    assert not wrong
    reference = tmp_path / "people-1366.png"
    reference.write_bytes(frozen.screenshot(page))
    assert compare("people-1366", frozen.screenshot(page), reference, update=False) is None

    page.evaluate(MOVED_COLUMN)
    moved = compare("people-1366", frozen.screenshot(page), reference, update=False)
    page.reload()
    page.evaluate(CHANGED_LETTER)
    reworded = compare("people-1366", frozen.screenshot(page), reference, update=False)

    for mismatch in (moved, reworded):
        assert mismatch is not None
        assert str(mismatch).startswith("people-1366: ")
        assert "pixels differ" in mismatch.reason
        assert str(mismatch.folder) in str(mismatch)
        assert (mismatch.folder / "people-1366-actual.png").exists()
        assert (mismatch.folder / "people-1366-diff.png").exists()
