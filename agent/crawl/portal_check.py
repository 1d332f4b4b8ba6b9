"""``portal check``: one login's portal walked step by step with the recipe in use.

When a crawl ends ``layout_changed`` or a sign-in stops working, the person fixing it
needs to know which recipe key no longer matches, and what the portal shows instead.
The check walks what a crawl walks (the sign-in page and its labels, the sign-in,
the org list, one org's users and the count that proves them complete) with the
same scraper a crawl uses, and stops at the first step that fails. For that step it
looks at the portal the way a person would: the page's title and headings, the labels
and buttons of a form, each table's header row, the keys of a JSON answer. Nothing is
recorded: no crawl, no scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError

from agent.capture import OrgRef, PortalTimeout, ScanFailure
from agent.crawl.browser import close_context
from agent.crawl.store import CrawlStore
from agent.orgid import parse_org_id
from agent.scrapers.base import all_orgs
from agent.scrapers.http import get_json, send
from agent.scrapers.json_reader import lookup
from agent.scrapers.pages import close_page
from agent.scrapers.recipe import JsonOrgs, JsonUsers, PageUsers, address
from agent.scrapers.recipe_book import LoadedRecipe
from agent.scrapers.recipe_scraper import RecipeScraper
from agent.scrapers.signin import sign_in
from agent.scrapers.timeouts import answered_within, scrape_timeout_ms
from agent.security.logins import SignInMethod
from agent.storage.models import PortalLogin

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

INTERACTIVE = SignInMethod.INTERACTIVE.value

#: What a page shows a person: its title, headings, form labels and buttons, each
#: table's header row, the lists it has (what each item and its parts are, for a
#: recipe's ``items`` selectors), and how many links it has.
_OBSERVE = """() => {
  const text = e => (e.innerText || e.textContent || '').replace(/\\s+/g, ' ').trim();
  const seen = xs => [...new Set(xs.filter(Boolean))];
  const name = e => e.tagName.toLowerCase()
    + [...e.classList].map(c => '.' + c).join('')
    + [...e.attributes].filter(a => a.name.startsWith('data-')).map(a => `[${a.name}]`).join('');
  return {
    title: document.title,
    headings: seen([...document.querySelectorAll('h1, h2, h3, [role=heading]')].map(text)),
    labels: seen([
      ...[...document.querySelectorAll('label')].map(text),
      ...[...document.querySelectorAll('input, select, textarea')]
        .map(i => i.getAttribute('aria-label') || i.getAttribute('placeholder')),
    ]),
    buttons: seen([...document.querySelectorAll('button, [role=button], input[type=submit]')]
      .map(b => text(b) || b.value || b.getAttribute('aria-label'))),
    tables: [...document.querySelectorAll('table')]
      .map(t => t.rows.length ? [...t.rows[0].cells].map(text) : []),
    lists: [...document.querySelectorAll('ul, ol, [role=list]')].filter(l => l.children.length)
      .slice(0, 4).map(l => {
        const first = l.children[0];
        const parts = [...first.children].map(name).slice(0, 8).join(' ');
        return `${name(l)}: ${l.children.length} × ${name(first)}` + (parts ? ` (${parts})` : '');
      }),
    links: document.querySelectorAll('a[href]').length,
    lines: text(document.body || document.documentElement).slice(0, 300),
  };
}"""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the walk: what it found, or why it failed and what was there instead."""

    name: str
    ok: bool
    found: str
    saw: tuple[str, ...] = ()


@dataclass
class PortalCheck:
    login_id: int
    portal: str
    base_url: str
    recipe: LoadedRecipe
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def add(self, name: str, ok: bool, found: str, saw: Sequence[str] = ()) -> bool:
        self.steps.append(Step(name, ok, found, () if ok else tuple(saw)))
        return ok


async def check_portal(
    browser: Browser,
    store: CrawlStore,
    row: PortalLogin,
    scraper: RecipeScraper,
    *,
    org: str | None = None,
) -> PortalCheck:
    """Walk the login's portal with ``scraper``'s recipe until a step fails."""
    assert row.id is not None
    creds = store.credentials(row)
    check = PortalCheck(row.id, row.portal, creds.base_url, scraper.loaded)
    wanted = None
    if org is not None:
        try:
            wanted = parse_org_id(row.portal, org)
        except ValueError as exc:
            check.add("org asked for", False, str(exc))
            return check
    interactive = row.sign_in_method == INTERACTIVE
    state = store.storage_state(row) if interactive else None
    context = await answered_within(browser.new_context(storage_state=state), "a new context")
    context.set_default_timeout(scrape_timeout_ms())
    try:
        if not await _sign_in_page(check, context, scraper, interactive=interactive):
            return check
        if interactive:
            if not await _stored_sign_in(check, context, scraper, has_state=state is not None):
                return check
        elif not await _sign_in(check, context, scraper, creds):
            return check
        orgs = await _org_list(check, context, scraper)
        if orgs is None:
            return check
        chosen = _choose(check, orgs, wanted)
        if chosen is not None:
            await _users(check, context, scraper, chosen)
    finally:
        await close_context(context)
    return check


async def _sign_in_page(
    check: PortalCheck, context: BrowserContext, scraper: RecipeScraper, *, interactive: bool
) -> bool:
    """The sign-in page and the labels and button of its first form (a person signing an
    interactive login in is shown the page with the email filled in: its label only)."""
    pages = scraper.sign_in_pages
    url = f"{check.base_url}{pages.path}"
    page = await answered_within(context.new_page(), "a new page")
    try:
        try:
            response = await page.goto(url, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            return check.add("sign-in page", False, f"{url} did not load: {_first_line(exc)}")
        status = response.status if response is not None else 0
        if status != 200:
            return check.add(
                "sign-in page", False, f"{url} answered {status}", await _observed(page)
            )
        check.add("sign-in page", True, f"{pages.path} answered 200")
        first = (
            [pages.email_label]
            if pages.identifier_button or interactive
            else [pages.email_label, pages.password_label]
        )
        seen = await _observed(page)
        for label in first:
            count = await page.get_by_label(label, exact=True).count()
            if not check.add(f"label {label!r}", count == 1, _found(count, "input"), seen):
                return False
        if interactive:
            return True
        button = pages.identifier_button or pages.password_button
        count = await page.get_by_role("button", name=button, exact=True).count()
        return check.add(f"button {button!r}", count == 1, _found(count, "button"), seen)
    finally:
        await close_page(page)


async def _sign_in(
    check: PortalCheck, context: BrowserContext, scraper: RecipeScraper, creds: Any
) -> bool:
    seen: list[str] = []

    async def look(page: Page) -> None:
        seen.extend([f"address: {page.url}", *await _observed(page)])

    try:
        await sign_in(context, creds, scraper.sign_in_pages, on_failure=look)
    except ScanFailure as exc:
        return check.add("sign in", False, f"{exc.reason}: {exc.detail}", seen)
    return check.add(
        "sign in", True, f"password and code accepted; landed on {scraper.sign_in_pages.landing}"
    )


async def _stored_sign_in(
    check: PortalCheck, context: BrowserContext, scraper: RecipeScraper, *, has_state: bool
) -> bool:
    again = f"a person must sign it in: accessrecon login connect {check.login_id}"
    if not has_state:
        return check.add("stored sign-in", False, f"none stored; {again}")
    try:
        alive = await scraper.is_signed_in(context, check.base_url)
    except ScanFailure as exc:
        return check.add("stored sign-in", False, f"{exc.reason}: {exc.detail}")
    if not alive:
        return check.add("stored sign-in", False, f"the portal no longer accepts it; {again}")
    return check.add("stored sign-in", True, "the portal accepts the stored sign-in")


async def _org_list(
    check: PortalCheck, context: BrowserContext, scraper: RecipeScraper
) -> list[OrgRef] | None:
    spec = scraper.recipe.orgs
    try:
        orgs = await all_orgs(scraper, context, check.base_url)
    except ScanFailure as exc:
        url = f"{check.base_url}{spec.path}"
        saw = await (
            _json_keys(context, url) if isinstance(spec, JsonOrgs) else _page(context, url)
        )
        check.add("org list", False, f"{exc.reason}: {exc.detail}", saw)
        return None
    sample = ", ".join(f"{o.name} ({o.portal_org_id})" for o in orgs[:3])
    check.add(
        "org list",
        True,
        f"{len(orgs)} org{'' if len(orgs) == 1 else 's'} read from {spec.path}"
        + (f": {sample}{', …' if len(orgs) > 3 else ''}" if orgs else ""),
    )
    return orgs


def _choose(check: PortalCheck, orgs: list[OrgRef], wanted: str | None) -> OrgRef | None:
    if wanted is None:
        if not orgs:
            check.add("users", False, "the login sees no org, so no user list can be read")
            return None
        return orgs[0]
    for ref in orgs:
        if ref.portal_org_id == wanted:
            return ref
    check.add("org asked for", False, f"{wanted} is not in this login's org list")
    return None


async def _users(
    check: PortalCheck, context: BrowserContext, scraper: RecipeScraper, org: OrgRef
) -> None:
    spec = scraper.recipe.users
    try:
        read = await scraper.list_users(context, check.base_url, org)
    except ScanFailure as exc:
        saw: list[str] = []
        if isinstance(spec, JsonUsers):
            url = address(check.base_url, spec.path, org=org.portal_org_id, page=1)
            saw = await _json_keys(context, url, spec.rows)
        elif isinstance(spec, PageUsers):
            for part in spec.lists:
                url = address(check.base_url, part.path, org=org.portal_org_id, page=1)
                saw += [f"[{part.name}]", *await _page(context, url)]
        check.add(f"users of {org.name}", False, f"{exc.reason}: {exc.detail}", saw)
        return
    check.add(f"users of {org.name}", True, f"{len(read.users)} users read ({read.evidence})")
    check.add(
        "counts agree",
        read.reported_total == len(read.users),
        f"the portal says {read.reported_total}, {len(read.users)} read",
    )


async def _json_keys(context: BrowserContext, url: str, rows: str | None = None) -> list[str]:
    """The keys of a JSON answer, and of the first object of its lists, for the report."""
    try:
        body = await get_json(context, url)
    except ScanFailure as exc:
        return [f"{url}: {exc.detail}"]
    if not isinstance(body, dict):
        return [f"{url} answered a {type(body).__name__}, not an object"]
    saw = [f"keys: {', '.join(body)}"]
    lists = {k: v for k, v in body.items() if isinstance(v, list)}
    if rows is not None and isinstance(lookup(body, rows), list):
        lists = {rows: lookup(body, rows)}
    for key, value in lists.items():
        first = next((v for v in value if isinstance(v, dict)), None)
        if first is not None:
            saw.append(f"keys of an item of {key!r}: {', '.join(first)}")
    return saw


async def _page(context: BrowserContext, url: str) -> list[str]:
    """What the page at ``url`` shows a person, for the report."""
    status, _, _ = await send(context, "GET", url, headers={"Accept": "text/html"})
    page = await answered_within(context.new_page(), "a new page")
    try:
        await page.goto(url, wait_until="domcontentloaded")
        return [f"{url} answered {status}", *await _observed(page)]
    except PlaywrightError as exc:
        return [f"{url} did not load: {_first_line(exc)}"]
    finally:
        await close_page(page)


async def _observed(page: Page) -> list[str]:
    try:
        seen = await answered_within(page.evaluate(_OBSERVE), "what the page shows")
    except (PlaywrightError, PortalTimeout) as exc:
        return [f"the page could not be read: {_first_line(exc)}"]
    lines = [f"title: {seen['title']!r}"]
    if seen["headings"]:
        lines.append("headings: " + ", ".join(map(repr, seen["headings"][:6])))
    if seen["labels"]:
        lines.append("labels: " + ", ".join(map(repr, seen["labels"][:12])))
    if seen["buttons"]:
        lines.append("buttons: " + ", ".join(map(repr, seen["buttons"][:12])))
    for n, header in enumerate(seen["tables"][:4], start=1):
        lines.append(f"table {n} headers: " + ", ".join(map(repr, header)))
    for found in seen["lists"]:
        lines.append(f"list {found}")
    if not seen["tables"]:
        lines.append(f"no table; {seen['links']} links; text: {seen['lines'][:160]!r}")
    return lines


def _found(count: int, what: str) -> str:
    return f"one {what}" if count == 1 else f"{count} {what}s found, not one"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
