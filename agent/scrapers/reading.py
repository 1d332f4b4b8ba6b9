"""Reading server-rendered pages: several at once, in one browser document.

A page fetched with the signed-in session still has to be built, styled and laid
out by the browser before accessible locators can read it, and every call into the
browser costs a round trip through the driver, the browser process and the
renderer. That fixed cost, paid per page, was most of a qbo crawl's CPU. So pages
fetched at about the same time, by the orgs the crawler reads concurrently, are
read together: each page's body becomes one ``<section>`` of a single document, the
document is swapped into a reused page (scripts inert) and one call returns, for
every section, its visible text lines and its tables.

That call reads the text a person sees from the document's computed style, without
laying it out (``visible_text``: what a style hides stays out, lines break where they
show; half the renderer's CPU of a read with ``innerText``), and empties the body
before the browser's next frame would lay it out and paint it. A document it
cannot judge by style alone (text hidden by ``visibility``, preserved white space,
form controls and the like) is read again as it was before: laid out, its tables
found by the role locator and its text by ``innerText``.

The batching is of the group-commit kind: a read starts when fewer than
``READERS`` are in progress; pages that arrive meanwhile wait for the next read and
all go in it (up to ``MAX_PAGES``). A read about to start waits ``LINGER_S`` at
most for pages still being fetched (``fetch_and_read``), so that a page landing a
moment after a read ends is not read alone. Readers are tasks of their own, so a
caller that gives up does not strand the pages read with its own.

Pages share a document only when their ``<head>`` (title aside) and their
``<body>`` tag are identical, so the same stylesheets apply to every section as to
the page alone; the combined body carries that body's attributes. A failure of
the shared read (the renderer stuck or gone) fails every page in it, each as its
own transient error, which the crawler retries.

What crosses the driver is kept small and flat: the swap and the read are one call
(a read laid out checks it found the document the swap made), and the read comes
back as one JSON string, not as a tree of values that the driver protocol would
check node by node.

Lists that are not tables (a portal that shows each user as an item of its own) are
read the same way, by the CSS selectors a recipe gives (``ItemSpec``): pages are
then batched only with pages read by the same selectors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError

from agent.capture import PortalError, PortalTimeout, ScanFailure
from agent.scrapers.http import get_html
from agent.scrapers.pages import page_from
from agent.scrapers.timeouts import scrape_timeout_s
from agent.scrapers.visible_text import SECTION_PARTS, WALK_SECTIONS

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

#: Reads in progress at once per browser context. One: pages that arrive while it
#: runs gather for the next, which makes fewer, larger documents (two readers gave
#: no more orgs a second on 2 CPUs).
READERS = 1
#: Pages in one document at most.
MAX_PAGES = 16
#: How long a read about to start waits for pages still being fetched. Without it a
#: page landing just after a read ends is read alone, for the whole fixed cost of a
#: read, while the rest of its round arrive a moment later.
LINGER_S = 0.010

Table = list[list[str]]
Link = tuple[str, str]
#: a link in a table: its row and cell (indexes), its text and its ``href``
CellLink = tuple[int, int, str, str]


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """How to read a list made of items: each item's element, then each field's element
    within it (its visible text), and the attribute of the item holding an id."""

    items: str
    fields: tuple[tuple[str, str], ...]
    attribute: str | None = None


#: the key of an item's id (``ItemSpec.attribute``) among its fields
ITEM_ID = "@id"


@dataclass(frozen=True, slots=True)
class ReadPage:
    """One page as a person sees it.

    ``lines``: its visible text, a line per block; ``tables``: each table's rows of
    cell texts; ``table_links``: each table's links, each with the row and cell it is
    in (indexes into that table's rows and the row's cells), so a reader can take a
    link from the column it wants however the portal orders its columns; ``links``:
    every link on the page. A link is its text and its ``href`` as written.
    ``items``: with an ``ItemSpec``, each item's fields (``None`` where the field's
    selector found nothing), its id under ``ITEM_ID``.
    """

    lines: list[str]
    tables: list[Table]
    table_links: list[list[CellLink]]
    links: list[Link]
    items: list[dict[str, str | None]] = field(default_factory=list)


#: Build one document of sections from several pages' HTML and make it the page's
#: document, marked as this read's. The first page's head (but its title) and body
#: attributes are kept (the caller groups pages whose heads and body tags agree).
_SWAP_PAGES = """([htmls, mark]) => {
  const parsed = document.implementation.createHTMLDocument('');
  const root = document.createElement('html');
  const body = document.createElement('body');
  htmls.forEach((html, i) => {
    parsed.documentElement.innerHTML = html;
    if (i === 0) {
      // the title is not read, and a new title costs the browser process a title
      // update (and a repaint) per read: a fifth of a read's CPU
      parsed.head.querySelectorAll('title').forEach(t => t.remove());
      root.appendChild(document.adoptNode(parsed.head));
      for (const a of parsed.body.attributes) body.setAttribute(a.name, a.value);
    }
    const section = document.createElement('section');
    for (const node of [...parsed.body.childNodes]) section.appendChild(document.adoptNode(node));
    body.appendChild(section);
  });
  root.appendChild(body);
  root.setAttribute('data-reading', mark);
  document.replaceChild(root, document.documentElement);
}"""

#: The read laid out, of a document ``visible_text`` cannot judge by style alone. For
#: every section: its text lines (whitespace folded as get_by_text folds it), the
#: cells of the tables the role locator found in it, their links with the row and
#: cell each is in (a nested table's links are its own), its links, and the items of
#: the read's ``ItemSpec`` (given as ``[items, fields, attribute]``); as JSON, one
#: string for the driver to pass on. ``null`` if the document is not the one this
#: read swapped in.
_READ_SECTIONS = """(tables, [mark, spec]) => {
  if (document.documentElement.getAttribute('data-reading') !== mark) return null;
  const text = c => (c.innerText || c.textContent || '').trim();
  ${SECTION_PARTS}
  return JSON.stringify([...document.body.children].map(section => {
    const own = tables.filter(t => section.contains(t));
    return [
      section.innerText.split('\\n').map(s => s.replace(/\\s+/g, ' ').trim()).filter(Boolean),
      own.map(t => [...t.rows].map(r => [...r.cells].map(text))),
      own.map(cellLinks),
      links(section),
      items(section),
    ];
  }));
}""".replace("  ${SECTION_PARTS}\n", SECTION_PARTS)

#: Swap the pages in and read them by their style alone (``visible_text``), then empty
#: the body, so that the browser's next frame does not lay out and paint what was
#: read; ``null`` (the document left in place) when the walk cannot judge it.
_SWAP_AND_WALK = f"""([htmls, mark, spec]) => {{
  ({_SWAP_PAGES})([htmls, mark]);
  const read = ({WALK_SECTIONS})(spec);
  if (read !== null) document.body.replaceChildren();
  return read;
}}"""

_marks = itertools.count()

_HEAD = re.compile(r"<head\b[^>]*>(.*?)</head\s*>", re.IGNORECASE | re.DOTALL)
#: what in a head does not change how the page looks: its title, and named metadata
#: (``<meta name=…>``: a per-page CSRF token, a description, the viewport a desktop
#: browser ignores). ``http-equiv`` metas stay: they can change what the page may load.
_INERT_HEAD = re.compile(
    r"<title\b[^>]*>.*?</title\s*>|<meta\b(?=[^>]*\bname\s*=)[^>]*>", re.IGNORECASE | re.DOTALL
)
_BODY_TAG = re.compile(r"<body\b([^>]*)>", re.IGNORECASE)


def batch_key(html: str) -> tuple[str, str] | None:
    """What pages must share to be read in one document: head and body tag.

    The head is compared without what does not change how a page looks (its title
    and named metas), so that pages that carry a token of their own, as pages
    offering to remove users do, are still read together.
    ``None`` for a page without both: it is read alone.
    """
    head, body = _HEAD.search(html), _BODY_TAG.search(html)
    if head is None or body is None:
        return None
    return _INERT_HEAD.sub("", head.group(1)).strip(), body.group(1).strip()


@dataclass
class _Waiting:
    html: str
    done: asyncio.Future[ReadPage]
    items: ItemSpec | None = None


#: pages read together share their head and body tag and the selectors they are read by
_BatchKey = tuple[tuple[str, str] | None, ItemSpec | None]
_Section = tuple[
    list[str], list[Table], list[list[CellLink]], list[list[str]], list[dict[str, str | None]]
]


@dataclass
class _Desk:
    reading: int = 0
    waiting: dict[_BatchKey, list[_Waiting]] = field(default_factory=dict)
    readers: set[asyncio.Task[None]] = field(default_factory=set)
    #: pages being fetched by ``fetch_and_read``, and a signal each time one lands
    fetching: int = 0
    landed: asyncio.Event = field(default_factory=asyncio.Event)


_desks: WeakKeyDictionary[BrowserContext, _Desk] = WeakKeyDictionary()


def _desk_of(context: BrowserContext) -> _Desk:
    """The context's desk, made on first use (not built and thrown away on every page)."""
    desk = _desks.get(context)
    if desk is None:
        desk = _desks[context] = _Desk()
    return desk


async def fetch_and_read(
    context: BrowserContext, url: str, items: ItemSpec | None = None
) -> ReadPage:
    """The page at ``url``, fetched with the context's session and read with others.

    The desk knows the page is on its way, so a read about to start waits for it a
    moment (``LINGER_S``) rather than leave it for a read of its own.
    """
    desk = _desk_of(context)
    desk.fetching += 1
    try:
        html = await get_html(context, url)
    finally:
        desk.fetching -= 1
        desk.landed.set()
    return await read_page(context, html, url, items)


async def read_page(
    context: BrowserContext, html: str, url: str, items: ItemSpec | None = None
) -> ReadPage:
    """The page ``html`` (fetched from ``url``) as the browser shows it, read with others."""
    desk = _desk_of(context)
    item = _Waiting(html, asyncio.get_running_loop().create_future(), items)
    # a caller that gave up leaves its outcome unread: mark it read, not lost
    item.done.add_done_callback(lambda f: f.cancelled() or f.exception())
    desk.waiting.setdefault((batch_key(html), items), []).append(item)
    desk.landed.set()
    if desk.reading < READERS:
        # a task of its own: a caller cancelled mid-read must not strand the others
        desk.reading += 1
        reader = asyncio.create_task(_drain(context, desk))
        desk.readers.add(reader)
        reader.add_done_callback(desk.readers.discard)
    try:
        # the read has its own time limit; this one only guards against a lost page
        return await asyncio.wait_for(asyncio.shield(item.done), 3 * scrape_timeout_s())
    except TimeoutError:
        raise PortalTimeout(f"{url} was not read in time") from None
    except ScanFailure as exc:
        raise type(exc)(f"{url}: {exc.detail}") from exc


async def _drain(context: BrowserContext, desk: _Desk) -> None:
    """Read waiting pages, a document at a time, until none wait."""
    try:
        while desk.waiting:
            await _linger(desk)
            if not desk.waiting:  # another reader took them while this one lingered
                break
            key = next(iter(desk.waiting))
            queue = desk.waiting.pop(key)
            batch = queue[:MAX_PAGES] if key[0] is not None else queue[:1]
            if len(queue) > len(batch):
                desk.waiting[key] = queue[len(batch) :]
            await _read(context, batch)
    finally:
        desk.reading -= 1


async def _linger(desk: _Desk) -> None:
    """Wait, at most ``LINGER_S``, for the pages still being fetched to join the read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER_S
    while desk.fetching and sum(map(len, desk.waiting.values())) < MAX_PAGES:
        left = deadline - loop.time()
        if left <= 0:
            return
        desk.landed.clear()
        try:
            await asyncio.wait_for(desk.landed.wait(), left)
        except TimeoutError:
            return


async def _read(context: BrowserContext, batch: list[_Waiting]) -> None:
    try:
        async with page_from(context) as page:
            sections = await asyncio.wait_for(
                _swap_and_read(page, [w.html for w in batch], batch[0].items),
                scrape_timeout_s(),
            )
        if len(sections) != len(batch):
            raise PortalError(f"{len(batch)} pages made {len(sections)} sections")
        for item, (lines, tables, table_links, links, items) in zip(batch, sections, strict=True):
            if not item.done.done():
                item.done.set_result(
                    ReadPage(
                        lines,
                        tables,
                        [[(r, c, t, h) for r, c, t, h in found] for found in table_links],
                        [(t, h) for t, h in links],
                        items,
                    )
                )
    except TimeoutError:
        _fail(batch, PortalTimeout("the page could not be laid out in time"))
    except PlaywrightError as exc:
        _fail(batch, PortalError(f"the page could not be read: {str(exc).splitlines()[0]}"))
    except ScanFailure as exc:
        _fail(batch, exc)
    except BaseException as exc:  # cancelled or worse: nobody may wait for ever
        _fail(batch, PortalError(f"the page could not be read: {exc!r}"))
        raise


async def _swap_and_read(
    page: Page, htmls: list[str], items: ItemSpec | None = None
) -> list[_Section]:
    mark = str(next(_marks))
    spec = (
        None if items is None else [items.items, [list(f) for f in items.fields], items.attribute]
    )
    # One call swaps the pages in and reads them without layout; a document the walk
    # cannot judge that way is read again laid out, still marked as this read's.
    found = await page.evaluate(_SWAP_AND_WALK, [htmls, mark, spec])
    if found is None:
        found = await page.get_by_role("table").evaluate_all(_READ_SECTIONS, [mark, spec])
    if not isinstance(found, str):
        raise PortalError("the page read was not the document just put in it")
    sections: list[_Section] = json.loads(found)
    return sections


def _fail(batch: list[_Waiting], error: Exception) -> None:
    for item in batch:
        if not item.done.done():
            item.done.set_exception(error)
