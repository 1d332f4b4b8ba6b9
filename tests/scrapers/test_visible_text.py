"""A read without layout sees what a person sees: hidden text stays out, line breaks stay in.

The walk (``visible_text.WALK_SECTIONS``) stands in for ``innerText``; these tests hold
it to ``innerText`` on the same documents, and hold the read (``read_page``) to what
a person sees, whichever way it went.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from playwright.async_api import Browser

from agent.domain import Portal
from agent.scrapers.page_reader import rows_of_page
from agent.scrapers.pages import page_from
from agent.scrapers.reading import _READ_SECTIONS, _SWAP_PAGES, ReadPage, read_page
from agent.scrapers.recipe import PageUsers
from agent.scrapers.recipe_book import load_book
from agent.scrapers.visible_text import WALK_SECTIONS
from tests.browser_loop import BrowserLoop

QBO = load_book()[Portal.QBO].recipe
assert isinstance(QBO.users, PageUsers)
USERS_TAB = QBO.users.lists[0]
REALM = "1234567890"

HEAD = (
    "<head><title>Manage users</title><style>"
    ".gone{display:none} .ghost{visibility:hidden} .inline-block{display:inline-block}"
    " .as-block{display:block} .loud{text-transform:uppercase} .as-is{white-space:pre}"
    " .flex{display:flex} table{border-collapse:collapse} td,th{padding:.4rem}"
    "</style></head>"
)


def page(body: str) -> str:
    return f"<!doctype html><html>{HEAD}<body class='portal'>{body}</body></html>"


def users_table(*rows: tuple[str, ...]) -> str:
    head = "".join(f"<th scope='col'>{h}</th>" for h in ("Name", "Email", "User type", "Status"))
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


ANN = ("Ann Ashby", "ann@client.example", "Company admin", "Active")
BO = ("Bo Chen", "bo@client.example", "Reports only", "Invited")

#: documents the walk reads without layout, each as innerText reads it
PLAIN = [
    users_table(ANN, BO) + "<p>1-2 of 2</p><nav><a href='?page=2'>Next</a></nav>",
    users_table(
        ("  Cy \n  Dee ", "cy@x.example", "Standard<br>Manage users<br>Payroll admin", "Active"),
        ("<span>E</span> <b>F</b>", "e@x.example", "<div>Adviser</div><div>Bank</div>", "x"),
        ("a&nbsp;b", " &nbsp;c&nbsp; ", "<p>one</p><p>two</p>", "Read only <br> Extra "),
    ),
    "<h1>Head  line</h1><nav><a href='/a'>A</a> | <a href='/b'>B <b>bold</b></a></nav>"
    "<p>1-25 of 40</p><p hidden>No users to show</p><p class='gone'>No users to show</p>",
    users_table(
        ("x", "<span class='inline-block'> in  block </span>after", "<button>Go</button>", "y")
    )
    + "<div class='flex'><span>f1</span><span>f2</span> <span>f3</span></div>",
    "<ul><li>one</li>\n<li> two </li></ul><hr><p style='display:inline'>inline p</p> text"
    "<span class='as-block'>block</span>tail<br><br>after two breaks<br>",
    "<table><caption>Cap</caption><thead><tr><th>H1</th><th>H2</th></tr></thead><tbody>\n"
    "<tr><td>1</td><td>2</td></tr>\n<tr><td>3</td><td><table><tr><td>n1</td><td>n2</td></tr>"
    "</table></td></tr><tr class='gone'><td>hidden</td><td>row</td></tr></tbody></table>"
    "<table aria-hidden='true'><tr><td>aria hidden</td></tr></table>"
    "<div class='gone'><table><tr><td>gone</td></tr></table></div>",
    "<div style='display:contents'><p>in contents</p>text</div><div>東京\n都 🍀 &lt;x&gt;</div>"
    "<div>soft&shy;hyphen wbr<wbr>here<!-- a comment --></div><div>  </div><div>end</div>",
    users_table(
        ("a <img src='data:,' alt='logo'> b", "c<img src='data:,'>d", "f <input value=v> g", "x"),
        (
            "<svg width=5 height=5><rect width=2 height=2/></svg> s",
            "<dialog>closed</dialog>y",
            "<select hidden><option>z</option></select>z",
            "before<noscript>no script</noscript>after",
        ),
    ),
]

#: documents the walk leaves to layout: read laid out, by innerText
NEEDS_LAYOUT = [
    "<p class='ghost'>No users to show</p>" + users_table(ANN),
    "<div class='as-is'>kept\n  as is</div>",
    "<div class='loud'>shouted</div>",
    "<div>a <svg width='50' height='20'><text x='0' y='15'>drawn</text></svg> b</div>",
    "<table role='presentation'><tr><td>laid out</td></tr></table>",
]


async def _both(browser: Browser, html: str) -> tuple[object, object]:
    """The walk's read and innerText's read of one swapped-in document."""
    context = await browser.new_context()
    try:
        async with page_from(context) as tab:
            await tab.evaluate(_SWAP_PAGES, [[html], "1"])
            walked = await tab.evaluate(WALK_SECTIONS, None)
            laid_out = await tab.get_by_role("table").evaluate_all(_READ_SECTIONS, ["1", None])
    finally:
        await context.close()
    return walked, laid_out


@pytest.mark.browser
@pytest.mark.parametrize("body", PLAIN)
def test_the_walk_reads_as_inner_text(browser_loop: BrowserLoop, body: str) -> None:
    walked, laid_out = browser_loop.run(lambda b: _both(b, page(body)))
    assert isinstance(walked, str)
    assert json.loads(walked) == json.loads(str(laid_out))


@pytest.mark.browser
@pytest.mark.parametrize("body", NEEDS_LAYOUT)
def test_what_the_walk_cannot_judge_is_left_to_layout(browser_loop: BrowserLoop, body: str) -> None:
    walked, laid_out = browser_loop.run(lambda b: _both(b, page(body)))
    assert walked is None
    assert isinstance(laid_out, str)


def _read(browser_loop: BrowserLoop, bodies: list[str]) -> list[ReadPage]:
    async def work(browser: Browser) -> list[ReadPage]:
        context = await browser.new_context()
        try:
            return await asyncio.gather(
                *(read_page(context, page(b), f"https://qbo/{n}") for n, b in enumerate(bodies))
            )
        finally:
            await context.close()

    return browser_loop.run(work)


@pytest.mark.browser
def test_hidden_text_is_not_read(browser_loop: BrowserLoop) -> None:
    """A hidden "no users" template beside a full table is not the list's empty text,
    and a hidden table is no table; however it is hidden."""
    listing = users_table(ANN, BO) + "<p class='range'>1-2 of 2</p>"
    hidden_table = "<table class='gone'><tr><th>Name</th><th>Email</th></tr></table>"
    templates = [
        "<p hidden>No users to show</p>",
        "<p class='gone'>No users to show</p>",
        "<div style='display:none'><p>No users to show</p></div>",
        "<p class='ghost'>No users to show</p>",  # read laid out, with the same outcome
    ]
    documents = [listing + t + hidden_table for t in templates]
    # those hidden by their style's display are read without layout, and left out there
    for body in documents[:3]:
        walked, _ = browser_loop.run(lambda b, body=body: _both(b, page(body)))
        assert isinstance(walked, str)
        [(lines, tables, _, _, _)] = json.loads(walked)
        assert "No users to show" not in lines
        assert len(tables) == 1
    read = _read(browser_loop, documents)
    for one in read:
        assert "No users to show" not in one.lines
        assert one.tables == [[list(USERS_TAB.table or ()), list(ANN), list(BO)]]
        found = rows_of_page(
            one,
            "https://qbo/app",
            Portal.QBO,
            REALM,
            USERS_TAB,
            0,
            QBO.values,
            QBO.texts.no_permission,
        )
        assert found is not None
        assert [u.email for u in found.users] == [ANN[1], BO[1]]
    # and shown, the same text is the empty list's
    [empty] = _read(browser_loop, ["<p>No users to show</p>"])
    assert "No users to show" in empty.lines


@pytest.mark.browser
def test_a_cell_keeps_its_lines(browser_loop: BrowserLoop) -> None:
    """A role then one extra permission per line, by <br> or by blocks, reads a line each."""
    [one] = _read(
        browser_loop,
        [
            users_table(
                ("Ann", "ann@x.example", "Standard<br>Manage users <br> Payroll admin", "Active"),
                ("Bo", "bo@x.example", "<div>Adviser</div><div>Bank account admin</div>", "x"),
                ("Cy", "cy@x.example", "Read<span class='gone'> only</span> <b>only</b>", "y"),
            )
        ],
    )
    cells = [row[2] for row in one.tables[0][1:]]
    assert cells == [
        "Standard\nManage users\nPayroll admin",
        "Adviser\nBank account admin",
        "Read only",
    ]
