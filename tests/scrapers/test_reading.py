"""Pages read several to a document are each read as if alone."""

from __future__ import annotations

import asyncio
import json

import pytest
from playwright.async_api import Browser

from agent.scrapers.pages import page_from
from agent.scrapers.reading import _READ_SECTIONS, _SWAP_PAGES, ReadPage, batch_key, read_page
from tests.browser_loop import BrowserLoop

HEAD = (
    "<head><title>{title}</title>"
    "<style>.gone{{display:none}} body.app .gone-in-app{{display:none}}</style></head>"
)


def page(title: str, body: str, *, head: str = HEAD, body_tag: str = '<body class="app">') -> str:
    return f"<!doctype html><html>{head.format(title=title)}{body_tag}{body}</body></html>"


def table(*rows: tuple[str, ...], css_class: str = "") -> str:
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><tr><th>Name</th><th>Email</th></tr>{cells}</table>'


def test_pages_that_differ_only_in_title_share_a_document() -> None:
    one = page("Acme", "<p>a</p>")
    two = page("Bakery", "<p>b</p>")
    assert batch_key(one) == batch_key(two) is not None
    other_style = page(
        "Acme", "<p>a</p>", head="<head><title>{title}</title><style>p{{}}</style></head>"
    )
    assert batch_key(other_style) != batch_key(one)
    assert batch_key(page("Acme", "<p>a</p>", body_tag="<body>")) != batch_key(one)
    assert batch_key("<p>no head or body</p>") is None


def test_pages_with_a_token_of_their_own_share_a_document() -> None:
    """A page offering removal carries a CSRF token, which may be new on every page."""

    def with_meta(meta: str) -> str:
        return page(
            "Acme",
            "<p>a</p>",
            head="<head><title>{title}</title>" + meta + "<style>p{{}}</style></head>",
        )

    one = with_meta('<meta name="csrf-token" content="n1.aa">')
    two = with_meta('<meta name="csrf-token" content="n2.bb">')
    assert batch_key(one) == batch_key(two) == batch_key(with_meta(""))
    # a meta that can change what the page may load still sets a page apart
    policy = with_meta('<meta http-equiv="Content-Security-Policy" content="style-src none">')
    assert batch_key(policy) != batch_key(one)


@pytest.mark.browser
def test_each_page_of_a_shared_document_reads_as_alone(browser_loop: BrowserLoop) -> None:
    pages = {
        # the body's class carries into the shared document: the second table stays hidden
        "acme": page(
            "Acme",
            "<h1>Acme Ltd</h1>"
            + table(("Ann", "ann@acme.example"))
            + table(("Shy", "shy@acme.example"), css_class="gone-in-app")
            + "<p>1-1 of 1</p><a href='/next?p=2'>Next</a>",
        ),
        "bakery": page(
            "Bakery",
            "<h1>Kōwhai Bakery</h1>"
            + table(("Bo <b>&lt;Chef&gt;</b>", "bo@bakery.example"), ("Cy", "cy@bakery.example"))
            + table(("Hidden", "hidden@bakery.example"), css_class="gone")
            + "<p>1-2 of 2</p>",
        ),
        "empty": page("Empty", "<h1>Empty Co</h1><p>No users to show</p>"),
        # its own stylesheet hides nothing: read in a document of its own
        "odd": page(
            "Odd",
            "<h1>Odd Ltd</h1>" + table(("Di", "di@odd.example")),
            head="<head><title>{title}</title><style>h1{{color:red}}</style></head>",
        ),
    }

    async def work(browser: Browser) -> dict[str, ReadPage]:
        context = await browser.new_context()
        try:
            read = await asyncio.gather(
                *(
                    read_page(context, html, f"https://portal/{name}")
                    for name, html in pages.items()
                )
            )
        finally:
            await context.close()
        return dict(zip(pages, read, strict=True))

    read = browser_loop.run(work)
    assert read["acme"].lines == [
        "Acme Ltd",
        "Name Email",
        "Ann ann@acme.example",
        "1-1 of 1",
        "Next",
    ]
    assert read["acme"].tables == [[["Name", "Email"], ["Ann", "ann@acme.example"]]]
    assert ("Next", "/next?p=2") in read["acme"].links
    # the hidden table is not a table a person sees; markup in a cell reads as its text
    assert read["bakery"].tables == [
        [["Name", "Email"], ["Bo <Chef>", "bo@bakery.example"], ["Cy", "cy@bakery.example"]]
    ]
    assert "Kōwhai Bakery" in read["bakery"].lines
    assert "Acme Ltd" not in read["bakery"].lines
    assert read["empty"].tables == []
    assert "No users to show" in read["empty"].lines
    assert read["odd"].tables == [[["Name", "Email"], ["Di", "di@odd.example"]]]
    assert "Odd Ltd" in read["odd"].lines


@pytest.mark.browser
def test_a_caller_that_gives_up_strands_no_one(browser_loop: BrowserLoop) -> None:
    async def work(browser: Browser) -> list[ReadPage]:
        context = await browser.new_context()
        try:
            first = asyncio.create_task(read_page(context, page("A", "<h1>A</h1>"), "a"))
            others = [
                asyncio.create_task(read_page(context, page(t, f"<h1>{t}</h1>"), t))
                for t in ("B", "C")
            ]
            await asyncio.sleep(0)
            first.cancel()
            return await asyncio.gather(*others)
        finally:
            await context.close()

    assert [r.lines for r in browser_loop.run(work)] == [["B"], ["C"]]


@pytest.mark.browser
def test_a_read_knows_the_document_it_reads(browser_loop: BrowserLoop) -> None:
    """Swap and read go to the browser together; a read that ran first must not count."""
    html = page("A", "<h1>A Ltd</h1>" + table(("Ann", "ann@a.example")))

    async def work(browser: Browser) -> tuple[object, object]:
        context = await browser.new_context()
        try:
            async with page_from(context) as tab:
                await tab.evaluate(_SWAP_PAGES, [[html], "7"])
                other = await tab.get_by_role("table").evaluate_all(_READ_SECTIONS, ["8", None])
                own = await tab.get_by_role("table").evaluate_all(_READ_SECTIONS, ["7", None])
        finally:
            await context.close()
        return other, own

    other, own = browser_loop.run(work)
    assert other is None
    assert isinstance(own, str)
    [(lines, tables, _, _, _)] = json.loads(own)
    assert lines == ["A Ltd", "Name Email", "Ann ann@a.example"]
    assert tables == [[["Name", "Email"], ["Ann", "ann@a.example"]]]


@pytest.mark.browser
def test_a_tables_links_say_their_row_and_cell(browser_loop: BrowserLoop) -> None:
    """Links are read with their place, so a column is found by name, not by order."""
    html = page(
        "L",
        "<h1>Links</h1><table><tr><th>Status</th><th>Client</th><th>Go</th></tr>"
        "<tr><td>Active</td><td><a href='/c/1'>Acme</a></td>"
        "<td><a href='/c/1'>Open</a><table><tr><td><a href='/in'>In</a></td></tr>"
        "</table></td></tr></table><a href='/out'>Out</a>",
    )

    async def work(browser: Browser) -> ReadPage:
        context = await browser.new_context()
        try:
            return await read_page(context, html, "https://portal/links")
        finally:
            await context.close()

    read = browser_loop.run(work)
    outer = next(i for i, t in enumerate(read.tables) if len(t) == 2)
    inner = next(i for i, t in enumerate(read.tables) if len(t) == 1)
    assert read.table_links[outer] == [(1, 1, "Acme", "/c/1"), (1, 2, "Open", "/c/1")]
    assert read.table_links[inner] == [(0, 0, "In", "/in")]
    assert ("Out", "/out") in read.links
