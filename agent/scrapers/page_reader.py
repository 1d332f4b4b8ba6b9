"""Reading server-rendered pages, as a recipe describes them: org lists and user lists.

Pages are fetched with the signed-in session and read by the browser (``reading``:
several pages in one document): tables located by their accessible role, the one
wanted picked by its header row; or items picked by the recipe's CSS selectors; and
each page's visible text lines, from which the no-permission sentence, a list's empty
text and its ``{a}-{b} of {N}`` range are checked.

Only what a recipe names is relied on: a table may have more columns, in any order (a
viewer who may remove users gets an ``Action`` column); a needed column that is
missing is a changed layout, named by its recipe key. The range text is the evidence
that every row was read; the list's own empty text, on a line of its own, is the
only way to none.

The parsing of a read page is kept apart from the fetching (``rows_of_page``) so that
a saved page can be read again offline with any recipe.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from agent.capture import LayoutChanged, NoPermission, OrgRef, OrgUsers, PortalError, PortalUser
from agent.domain import Portal
from agent.orgid import ID_SHAPES, parse_org_id
from agent.scrapers.fields import build_user
from agent.scrapers.pages import open_org_page, page_from
from agent.scrapers.reading import ITEM_ID, CellLink, ItemSpec, ReadPage, fetch_and_read
from agent.scrapers.recipe import (
    LinkOrgs,
    PageList,
    PageUsers,
    TableOrgs,
    Values,
    address,
    range_pattern,
)

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


def link_pattern(portal: Portal, template: str) -> re.Pattern[str]:
    """A recipe's link path as a pattern: ``{org}`` the portal's id shape, ``{user}``
    any path segment; a trailing slash allowed."""
    parts = re.split(r"(\{org\}|\{user\})", template.rstrip("/"))
    body = "".join(
        f"({ID_SHAPES[portal]})" if p == "{org}" else "([^/]+)" if p == "{user}" else re.escape(p)
        for p in parts
    )
    return re.compile(body + "/?")


def item_spec(part: PageList) -> ItemSpec | None:
    """How the browser reads a list of items; ``None`` for a table."""
    if part.items is None:
        return None
    return ItemSpec(part.items, tuple(part.columns.items()), part.id_attribute)


# ----------------------------------------------------------------------- org lists


async def table_orgs(
    context: BrowserContext, base_url: str, portal: Portal, spec: TableOrgs, no_permission: str
) -> AsyncGenerator[Sequence[OrgRef], None]:
    """The org list's table, a page at a time, following its ``next_link``."""
    url = f"{base_url}{spec.path}"
    link = link_pattern(portal, spec.link)
    for _ in range(spec.max_pages):
        page = await fetch_and_read(context, url)
        if any(no_permission in line for line in page.lines):
            raise NoPermission("the login's role cannot list clients")
        yield _table_orgs(page, url, portal, spec, link)
        following = _next_page(page, spec.next_link)
        if following is None:
            return
        url = urljoin(url, following)
    raise PortalError(f"the org list did not end after {spec.max_pages} pages")


def _table_orgs(
    page: ReadPage, url: str, portal: Portal, spec: TableOrgs, link: re.Pattern[str]
) -> list[OrgRef]:
    """The orgs of one page: each data row must link to exactly one org (from any of
    its cells); the name is that link's text in the name column, or the cell's text."""
    headers = tuple(spec.headers)
    index, columns = find_table(page.tables, headers)
    if index is None:
        raise LayoutChanged(
            f"the org list has no table with columns {', '.join(headers)} (recipe orgs.headers)"
        )
    named = columns[spec.name_column]
    rows = page.tables[index]
    links: dict[int, list[tuple[int, str, str]]] = {}
    for row, cell, text, href in page.table_links[index]:
        links.setdefault(row, []).append((cell, text, href))
    orgs: list[OrgRef] = []
    for number, cells in enumerate(rows[1:], start=1):
        if not is_data_row(cells, rows[0]):
            continue
        company = [
            (cell, text, parse_org_id(portal, m.group(1)))
            for cell, text, href in links.get(number, [])
            if (m := link.fullmatch(urlsplit(urljoin(url, href)).path))
        ]
        ids = {org_id for _, _, org_id in company}
        if len(ids) != 1:
            raise LayoutChanged(
                f"org list row {number} links to {len(ids)} orgs, not one (recipe orgs.link)"
            )
        texts = [text for cell, text, _ in company if cell == named and text]
        orgs.append(OrgRef(portal, ids.pop(), texts[0] if texts else cells[named].strip()))
    return orgs


def _next_page(page: ReadPage, name: str) -> str | None:
    """The ``href`` of the page's next-page link, not counting links inside its tables."""
    in_tables = {(text, href) for found in page.table_links for _, _, text, href in found}
    following = [
        href for text, href in page.links if text == name and href and (text, href) not in in_tables
    ]
    return following[0] if following else None


async def link_orgs(
    context: BrowserContext,
    base_url: str,
    portal: Portal,
    spec: LinkOrgs,
    *,
    sign_in_path: str,
    no_permission: str,
) -> list[OrgRef]:
    """Every org linked from the org list page: the first link to each, named by it."""
    url = f"{base_url}{spec.path}"
    async with page_from(context) as page:
        await open_org_page(page, url, login_path=sign_in_path, no_permission=no_permission)
        links = await page.get_by_role("link").evaluate_all(
            "els => els.map(e => [e.getAttribute('href'), (e.textContent || '').trim()])"
        )
    pattern = link_pattern(portal, spec.link)
    orgs: dict[str, OrgRef] = {}
    for href, name in links:
        match = pattern.fullmatch(urlsplit(urljoin(url, href or "")).path)
        if match:
            org_id = parse_org_id(portal, match.group(1))
            orgs.setdefault(org_id, OrgRef(portal, org_id, name))
    return list(orgs.values())


# ---------------------------------------------------------------------- user lists


@dataclass(frozen=True, slots=True)
class PageRows:
    """What one page of a list holds: its users, and its range (``None``: empty list)."""

    users: list[PortalUser]
    first: int
    last: int
    total: int


async def paged_users(
    context: BrowserContext,
    base_url: str,
    portal: Portal,
    org: OrgRef,
    spec: PageUsers,
    values: Values,
    no_permission: str,
) -> OrgUsers:
    """Every list of the org (a qbo tab each), read at once: their pages are read in one
    document with other orgs' pages."""
    reads = [
        asyncio.create_task(
            _read_list(context, base_url, portal, org, part, n, spec, values, no_permission)
        )
        for n, part in enumerate(spec.lists)
    ]
    try:
        results = await asyncio.gather(*reads)
    except BaseException:
        for read in reads:  # the first failure is the org's; the others are moot
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        raise
    users: list[PortalUser] = []
    evidence: list[str] = []
    for part, (rows, total) in zip(spec.lists, results, strict=True):
        users.extend(rows)
        evidence.append(f"{part.name}: {total}")
    return OrgUsers(
        org=org, users=tuple(users), reported_total=len(users), evidence="; ".join(evidence)
    )


async def _read_list(
    context: BrowserContext,
    base_url: str,
    portal: Portal,
    org: OrgRef,
    part: PageList,
    index: int,
    spec: PageUsers,
    values: Values,
    no_permission: str,
) -> tuple[list[PortalUser], int]:
    users: list[PortalUser] = []
    items = item_spec(part)
    for number in range(1, spec.max_pages + 1):
        url = address(base_url, part.path, org=org.portal_org_id, page=number)
        page = await fetch_and_read(context, url, items)
        found = rows_of_page(
            page, url, portal, org.portal_org_id, part, index, values, no_permission
        )
        if found is None:
            if number == 1:
                return [], 0
            raise LayoutChanged(f"page {number} of the {part.name} list says it is empty")
        if found.first != len(users) + 1:
            raise PortalError(
                f"{part.name} page {number} shows {found.first}-{found.last} of {found.total}"
                f" after {len(users)} rows"
            )
        users.extend(found.users)
        if found.last >= found.total:
            if len(users) != found.total:
                raise PortalError(
                    f"{part.name}: read {len(users)} rows, the page says {found.total}"
                )
            return users, found.total
    raise PortalError(f"the {part.name} list did not end after {spec.max_pages} pages")


def rows_of_page(
    page: ReadPage,
    url: str,
    portal: Portal,
    org_id: str,
    part: PageList,
    index: int,
    values: Values,
    no_permission: str,
) -> PageRows | None:
    """One read page of a list: its users and range, or ``None`` when it says, in the
    recipe's words and on a line of its own, that the list is empty."""
    key = f"recipe users.lists[{index}]"
    lines = page.lines
    if any(no_permission in line for line in lines):
        raise NoPermission("the login's role in this org cannot view users")
    found = ranges(lines, range_pattern(part.range))
    raw_rows: list[tuple[dict[str, str], str | None]]
    if part.table is not None:
        headers = tuple(part.table)
        table_index, columns = find_table(page.tables, headers)
        table = page.tables[table_index] if table_index is not None else []
        body = [
            (n, cells) for n, cells in enumerate(table[1:], start=1) if is_data_row(cells, table[0])
        ]
        if not body and all(t == 0 for _, _, t in found) and part.empty_text in lines:
            return None
        if table_index is None:
            raise LayoutChanged(
                f"the {part.name} list has no table with columns {', '.join(headers)} ({key}.table)"
            )
        ids = _ids_from_links(page.table_links[table_index], table[0], portal, org_id, url, part)
        raw_rows = [
            ({field: cells[columns[header]] for field, header in part.columns.items()}, ids.get(n))
            for n, cells in body
        ]
    else:
        if not page.items and all(t == 0 for _, _, t in found) and part.empty_text in lines:
            return None
        raw_rows = []
        for item in page.items:
            missing = [f for f in part.columns if item.get(f) is None]
            if missing:
                raise LayoutChanged(
                    f"an item of the {part.name} list has no {missing[0]}"
                    f" ({key}.columns.{missing[0]})"
                )
            raw_rows.append(({f: item[f] or "" for f in part.columns}, item.get(ITEM_ID)))
        if not raw_rows:
            raise LayoutChanged(f"the {part.name} list has no item {part.items!r} ({key}.items)")
    if len(found) != 1:
        raise LayoutChanged(
            f"the {part.name} list shows {len(found)} range texts, not one ({key}.range)"
        )
    first, last, total = found[0]
    if last - first + 1 != len(raw_rows):
        raise PortalError(
            f"{part.name}: the page shows {first}-{last} of {total} but holds {len(raw_rows)} rows"
        )
    users = []
    for fields, user_id in raw_rows:
        raw: dict[str, object] = dict(fields)
        for name, value in part.constants.items():
            raw[name] = value
        raw["portal_user_id"] = user_id
        email = str(raw.get("email", "")).strip()
        if "@" not in email:
            raise LayoutChanged(
                f"the email of a {part.name} row is {email!r} ({key}.columns.email)"
            )
        users.append(build_user(raw, values, f"{key}.columns"))
    return PageRows(users, first, last, total)


def find_table(
    tables: list[list[list[str]]], headers: tuple[str, ...]
) -> tuple[int | None, dict[str, int]]:
    """Which of the page's tables has every column of ``headers``, and where each is.

    The header row must name each wanted column once; other columns, and the order,
    are the portal's own. ``None`` when no table has them; more than one is a changed
    layout.
    """
    matching: list[tuple[int, dict[str, int]]] = []
    for i, rows in enumerate(tables):
        if not rows:
            continue
        names = [" ".join(cell.split()) for cell in rows[0]]
        if all(names.count(h) == 1 for h in headers):
            matching.append((i, {h: names.index(h) for h in headers}))
    if len(matching) > 1:
        raise LayoutChanged(
            f"{len(matching)} tables have the columns {', '.join(headers)}, not one"
        )
    return matching[0] if matching else (None, {})


def is_data_row(cells: list[str], header: list[str]) -> bool:
    """A row of the table's data: a cell under every header, and not the header again.

    A row may have a cell more (a control without a header of its own, after the
    others). Rows with fewer cells (a note spanning the table, an empty row) carry no
    user; the range text is what proves none was missed.
    """
    return len(cells) >= len(header) and cells != header


def ranges(lines: list[str], pattern: re.Pattern[str]) -> list[tuple[int, int, int]]:
    """The distinct range texts of the page: lines that are one, else within lines."""
    whole = [m for m in map(pattern.fullmatch, lines) if m]
    matches = whole or [m for line in lines for m in pattern.finditer(line)]
    distinct = dict.fromkeys(
        (int(m.group("first")), int(m.group("last")), int(m.group("total"))) for m in matches
    )
    return list(distinct)


def _ids_from_links(
    links: list[CellLink], header: list[str], portal: Portal, org_id: str, url: str, part: PageList
) -> dict[int, str]:
    """Each row's user id, from the link in its id column to this org's ``id_link``;
    rows without one (a viewer who may not remove them) are left out."""
    if part.id_column is None or part.id_link is None:
        return {}
    names = [" ".join(cell.split()) for cell in header]
    if names.count(part.id_column) != 1:
        return {}
    column = names.index(part.id_column)
    pattern = link_pattern(portal, part.id_link)
    org_first = part.id_link.index("{org}") < part.id_link.index("{user}")
    ids: dict[int, str] = {}
    for row, cell, _, href in links:
        found = pattern.fullmatch(urlsplit(urljoin(url, href)).path)
        if cell != column or not found:
            continue
        org_text, user_text = found.groups() if org_first else reversed(found.groups())
        if parse_org_id(portal, org_text) == org_id:
            ids.setdefault(row, unquote(user_text))
    return ids
