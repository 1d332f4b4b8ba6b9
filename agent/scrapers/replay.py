"""Replaying a saved users page: the parsing step of a scan, offline, with any recipe.

A support fixture (``agent.storage.models.PortalFixture``) holds what the extension
fetched of an org's users page, redacted in the browser: the users JSON, page by
page, or the user-list markup of every page of every list the recipe reads. Replaying
it runs the same parsing a crawl runs (``json_reader.users_from_bodies``,
``page_reader.rows_of_page`` on pages read by a real Chromium with
``reading.read_page``) and holds the result to the same evidence (the JSON's total,
each list's ``{a}-{b} of {N}``), so a recipe that reads the fixture reads the live
page, and one that does not says which recipe key found nothing.

The format is checked by ``fixture_pages`` without loading Playwright, so the server
can refuse a malformed capture; the readers that need the browser are imported only
when a fixture is replayed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent.capture import LayoutChanged, PortalError, PortalUser, ScanFailure
from agent.domain import AccessStatus, FailureReason, Portal
from agent.scrapers.recipe import JsonUsers, PageUsers, Recipe
from agent.scrapers.recipe_book import (
    LoadedRecipe,
    RecipeError,
    merge,
    parse_toml,
    shipped_path,
    shipped_text,
    validate,
)

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

#: the version of the content format below
FORMAT = 1
FixtureKind = Literal["json", "html"]
KINDS: tuple[FixtureKind, ...] = ("json", "html")
#: pages a fixture may hold (a recipe reads at most 2000 pages of one list)
MAX_PAGES = 2000
#: where replayed pages pretend to come from: links are resolved against it, never fetched
REPLAY_ORIGIN = "https://fixture.invalid"


class FixtureError(ValueError):
    """A fixture's content that is not a capture: one line naming what is wrong."""


@dataclass(frozen=True, slots=True)
class CapturedPage:
    """One page as captured: its path on the portal, and the JSON answer (``json``) or
    the list's markup (``html``, with the recipe list it belongs to and its number)."""

    path: str
    body: Any = None
    html: str = ""
    list: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class Fixture:
    """A saved users page of one org, as replay needs it."""

    portal: Portal
    portal_org_id: str
    kind: FixtureKind
    pages: tuple[CapturedPage, ...]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a recipe read of a fixture: the users, or why it read nothing."""

    recipe: str
    users: tuple[PortalUser, ...] = ()
    total: int | None = None
    evidence: str = ""
    #: the reader's message, naming the recipe key that found nothing
    error: str | None = None
    reason: FailureReason | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ----------------------------------------------------------------------------- format


def fixture_pages(kind: str, content: Any) -> tuple[CapturedPage, ...]:
    """The pages of a capture's content (``{"format": 1, "pages": [...]}``), checked."""
    if kind not in KINDS:
        raise FixtureError(f"kind {kind!r} is not a kind of fixture; use json or html")
    if not isinstance(content, Mapping):
        raise FixtureError("the content is not a JSON object")
    if content.get("format") != FORMAT:
        raise FixtureError(f"the content's format is {content.get('format')!r}, not {FORMAT}")
    unknown = sorted(set(content) - {"format", "pages"})
    if unknown:
        raise FixtureError(f"the content has keys a capture does not: {', '.join(unknown)}")
    pages = content.get("pages")
    if not isinstance(pages, list) or not pages:
        raise FixtureError("the content holds no pages")
    if len(pages) > MAX_PAGES:
        raise FixtureError(f"the content holds {len(pages)} pages; at most {MAX_PAGES}")
    return tuple(_page(kind, n, page) for n, page in enumerate(pages))


def _page(kind: str, n: int, page: Any) -> CapturedPage:
    where = f"pages[{n}]"
    if not isinstance(page, Mapping):
        raise FixtureError(f"{where} is not an object")
    path = page.get("path")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 2000:
        raise FixtureError(f"{where}.path is not a path on the portal")
    if kind == "json":
        if set(page) != {"path", "body"}:
            raise FixtureError(f"{where} of a json fixture has keys path and body only")
        return CapturedPage(path, body=page["body"])
    if set(page) != {"path", "html", "list", "page"}:
        raise FixtureError(f"{where} of an html fixture has keys path, list, page and html")
    html, name, number = page["html"], page["list"], page["page"]
    if not isinstance(html, str):
        raise FixtureError(f"{where}.html is not text")
    if not isinstance(name, str) or not name:
        raise FixtureError(f"{where}.list does not name a list of the recipe")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise FixtureError(f"{where}.page is not a page number from 1")
    return CapturedPage(path, html=html, list=name, page=number)


def content_of(pages: Sequence[CapturedPage], kind: FixtureKind) -> dict[str, Any]:
    """The content object of ``pages``: what ``fixture_pages`` reads back."""
    if kind == "json":
        listed = [{"path": p.path, "body": p.body} for p in pages]
    else:
        listed = [{"path": p.path, "list": p.list, "page": p.page, "html": p.html} for p in pages]
    return {"format": FORMAT, "pages": listed}


def content_text(content: Mapping[str, Any]) -> str:
    """The one text a content is stored and hashed as: compact, keys in order given."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------------------- recipes


def recipe_from_file(portal: Portal, path: Path) -> LoadedRecipe:
    """The recipe of ``path`` laid over the shipped one, as an override directory's
    file would be; ``RecipeError`` naming the file, key and reason."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    laid = parse_toml(text, str(path))
    if "version" not in laid:
        raise RecipeError(
            f"{path}: version: an override must give its own version"
            " (a replay names the version that read it)"
        )
    data = merge(parse_toml(shipped_text(portal), shipped_path(portal)), laid)
    recipe = validate(data, str(path), portal)
    return LoadedRecipe(recipe, (shipped_path(portal), str(path)), True)


# ------------------------------------------------------------------------------ replay


async def replay(
    fixture: Fixture, loaded: LoadedRecipe, context: BrowserContext | None = None
) -> ReplayResult:
    """The users ``loaded``'s recipe reads of the fixture, or the reason it reads none.

    An ``html`` fixture is read by the browser of ``context``; a ``json`` one needs none.
    """
    recipe = loaded.recipe
    if recipe.portal != fixture.portal:
        raise FixtureError(
            f"the recipe is {recipe.portal}'s, the fixture was saved from {fixture.portal}"
        )
    try:
        if isinstance(recipe.users, JsonUsers):
            users, total, evidence = _replay_json(fixture, recipe, recipe.users)
        else:
            users, total, evidence = await _replay_pages(fixture, recipe, recipe.users, context)
    except ScanFailure as exc:
        return ReplayResult(loaded.label, error=exc.detail, reason=exc.reason)
    return ReplayResult(loaded.label, tuple(users), total, evidence)


def _wrong_kind(fixture: Fixture, recipe: Recipe) -> LayoutChanged:
    return LayoutChanged(
        f"the recipe reads the users as {recipe.users.read}, the fixture holds {fixture.kind}"
        " (recipe users.read)"
    )


def _replay_json(
    fixture: Fixture, recipe: Recipe, spec: JsonUsers
) -> tuple[list[PortalUser], int, str]:
    from agent.scrapers.json_reader import lookup, users_from_bodies

    if fixture.kind != "json":
        raise _wrong_kind(fixture, recipe)
    bodies = [page.body for page in fixture.pages]
    users = users_from_bodies(bodies, spec, recipe.values)
    totals = [lookup(body, spec.total) for body in bodies]
    total = totals[0]
    if any(t != total for t in totals):
        raise PortalError(f"the total changed from {total} to {totals[-1]} between pages")
    if len(users) != total:
        raise PortalError(
            f"the users JSON says {total} users but its {len(bodies)} captured"
            f" page{'s' if len(bodies) != 1 else ''} list {len(users)}"
        )
    return users, total, f"JSON total {total}"


async def _replay_pages(
    fixture: Fixture, recipe: Recipe, spec: PageUsers, context: BrowserContext | None
) -> tuple[list[PortalUser], int, str]:
    if fixture.kind != "html":
        raise _wrong_kind(fixture, recipe)
    if context is None:
        raise FixtureError("an html fixture is read by a browser: give a browser context")
    users: list[PortalUser] = []
    evidence: list[str] = []
    for index, part in enumerate(spec.lists):
        pages = sorted((p for p in fixture.pages if p.list == part.name), key=lambda p: p.page)
        if not pages:
            captured = sorted({p.list for p in fixture.pages})
            raise LayoutChanged(
                f"the fixture holds no page of the {part.name} list, only of"
                f" {', '.join(captured)} (recipe users.lists[{index}].name)"
            )
        rows, total = await _replay_list(fixture, recipe, index, pages, context)
        users.extend(rows)
        evidence.append(f"{part.name}: {total}")
    return users, len(users), "; ".join(evidence)


async def _replay_list(
    fixture: Fixture,
    recipe: Recipe,
    index: int,
    pages: list[CapturedPage],
    context: BrowserContext,
) -> tuple[list[PortalUser], int]:
    """One list's pages, read as ``page_reader`` reads them live, page after page."""
    from agent.scrapers.page_reader import item_spec, rows_of_page
    from agent.scrapers.reading import read_page

    assert isinstance(recipe.users, PageUsers)
    part = recipe.users.lists[index]
    rows: list[PortalUser] = []
    shown = ""
    for number, captured in enumerate(pages, start=1):
        if captured.page != number:
            raise PortalError(f"the fixture lacks page {number} of the {part.name} list")
        url = REPLAY_ORIGIN + captured.path
        page = await read_page(context, page_document(captured.html), url, item_spec(part))
        found = rows_of_page(
            page,
            url,
            fixture.portal,
            fixture.portal_org_id,
            part,
            index,
            recipe.values,
            recipe.texts.no_permission,
        )
        if found is None:
            if number == 1:
                return [], 0
            raise LayoutChanged(f"page {number} of the {part.name} list says it is empty")
        if found.first != len(rows) + 1:
            raise PortalError(
                f"{part.name} page {number} shows {found.first}-{found.last} of {found.total}"
                f" after {len(rows)} rows"
            )
        rows.extend(found.users)
        shown = f"{found.first}-{found.last} of {found.total}"
        if found.last >= found.total:
            if len(rows) != found.total:
                raise PortalError(
                    f"{part.name}: read {len(rows)} rows, the page says {found.total}"
                )
            return rows, found.total
    raise PortalError(f"the fixture's {len(pages)} page(s) of the {part.name} list end at {shown}")


def page_document(html: str) -> str:
    """A captured list's markup as a page of its own, for the browser to read."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>fixture</title></head>'
        f"<body>{html}</body></html>"
    )


# ----------------------------------------------------------------------- users as data


def user_record(user: PortalUser) -> dict[str, Any]:
    """A user read, as a fixture file lists the users it expects."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "status": str(user.status),
        "extra_permissions": list(user.extra_permissions),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "kind": user.kind,
        "portal_user_id": user.portal_user_id,
        "subscriber": user.subscriber,
        "firm": user.firm,
        "added_by_owner": user.added_by_owner,
    }


def user_from_record(record: Mapping[str, Any]) -> PortalUser:
    """``user_record`` read back."""
    last = record.get("last_login")
    return PortalUser(
        email=str(record["email"]),
        name=str(record["name"]),
        role=str(record["role"]),
        status=AccessStatus(record["status"]),
        extra_permissions=tuple(record.get("extra_permissions") or ()),
        last_login=datetime.fromisoformat(last) if isinstance(last, str) else None,
        kind=record.get("kind"),
        portal_user_id=record.get("portal_user_id"),
        subscriber=bool(record.get("subscriber", False)),
        firm=record.get("firm"),
        added_by_owner=record.get("added_by_owner"),
    )
