"""``accessrecon portal fixtures list|show|replay|export``: users pages saved for support.

The extension's "Save this page for support" stores an org's users page, redacted in
the browser (``agent.services.fixtures``). Here it is replayed offline: the parsing
step of a scan, with the recipe in use or a candidate fix (``--recipe FILE``, laid
over the shipped recipe as an override would be), printing the users read or the
reader's message naming the recipe key that found nothing (``agent.scrapers.replay``).
``export`` writes a fixture file with the users it is expected to give, which
``tests/fixtures/portal/`` turns into a regression test. FIXTURE is a fixture's
number, or an exported fixture file.

A replay that reads nothing exits 1, so a script can try a fix until it reads.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from accessrecon.console import refuse, say
from agent.domain import Portal
from agent.reports.words import moment
from agent.runtime import Runtime
from agent.scrapers.recipe_book import LoadedRecipe, RecipeError, current_book
from agent.scrapers.replay import (
    Fixture,
    FixtureError,
    ReplayResult,
    content_of,
    fixture_pages,
    recipe_from_file,
    replay,
    user_record,
)
from agent.services.fixtures import fixture_of, get_fixture, list_fixtures
from agent.settings import ChromiumNotFound, Settings
from agent.storage.db import session_scope
from agent.storage.models import PortalFixture

#: what an exported fixture file says it is
FILE_MARK = "accessrecon-portal-fixture"

fixtures_app = typer.Typer(
    help="Users pages saved from the extension for support: list, show, replay, export.",
    no_args_is_help=True,
)

RecipeOption = Annotated[
    Path | None,
    typer.Option(
        "--recipe",
        help="a recipe file laid over the shipped one, as an override (default: the one in use)",
    ),
]


@fixtures_app.command("list")
def list_command(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="how many, newest first")] = 50,
) -> None:
    """The saved fixtures, newest first: one line each."""
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        lines = [
            "  ".join(
                (
                    f"#{row.id}",
                    moment(row.created_at),
                    f"{row.portal} {row.portal_org_id}",
                    row.kind,
                    row.recipe,
                    "read by its recipe" if row.recipe_read else "layout not read",
                    f"{row.size_bytes / 1024:.1f} kB",
                    f"by {row.created_by}",
                )
            )
            for row in list_fixtures(session, limit=limit)
        ]
    if not lines:
        say("no pages have been saved for support yet")
    for line in lines:
        say(line)


@fixtures_app.command("show")
def show_command(
    fixture: Annotated[str, typer.Argument(help="a fixture's number, or a fixture file")],
) -> None:
    """A fixture's facts, then its content (already redacted) as JSON."""
    facts, loaded = _load(fixture)
    for key in ("portal", "portal_org_id", "kind", "page_path", "recipe", "recipe_read"):
        say(f"{key}: {facts[key]}")
    for key in ("sha256", "size_bytes", "captured_at", "captured_by"):
        if facts.get(key) is not None:
            say(f"{key}: {facts[key]}")
    say(json.dumps(content_of(loaded.pages, loaded.kind), indent=2, ensure_ascii=False))


@fixtures_app.command("replay")
def replay_command(
    fixture: Annotated[str, typer.Argument(help="a fixture's number, or a fixture file")],
    recipe: RecipeOption = None,
) -> None:
    """Parse a fixture offline with a recipe: the users read, or which key found nothing."""
    _, loaded = _load(fixture)
    result = _replay(loaded, recipe)
    pages = len(loaded.pages)
    say(
        f"fixture {fixture}: {loaded.portal} {loaded.portal_org_id}, {loaded.kind},"
        f" {pages} page{'s' if pages != 1 else ''}; read with {result.recipe}"
    )
    if not result.ok:
        refuse(f"the recipe {result.recipe} read nothing: {result.error}")
    for user in result.users:
        extras = ", ".join(user.extra_permissions)
        parts = [str(user.status), user.role, user.email, user.name or "(no name)"]
        parts += [f"kind {user.kind}"] if user.kind else []
        parts += [f"firm {user.firm}"] if user.firm else []
        parts += [f"permissions {extras}"] if extras else []
        parts += [f"id {user.portal_user_id}"] if user.portal_user_id else []
        say("  " + " · ".join(parts))
    if not result.users:
        refuse(f"the recipe {result.recipe} read no users ({result.evidence})")
    say(f"{len(result.users)} users read ({result.evidence})")


@fixtures_app.command("export")
def export_command(
    fixture: Annotated[str, typer.Argument(help="a fixture's number, or a fixture file")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the fixture file to write")],
    recipe: RecipeOption = None,
) -> None:
    """Write a fixture file with what a recipe reads of it, for a regression test."""
    if output.suffix != ".json":
        refuse(f"{output}: name the fixture file *.json")
    if not output.parent.is_dir():
        refuse(f"{output.parent}: no such directory")
    facts, loaded = _load(fixture)
    result = _replay(loaded, recipe)
    document = fixture_document(facts, loaded, result)
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    outcome = f"{len(result.users)} users" if result.ok else f"no users: {result.error}"
    say(f"wrote {output}: read with {result.recipe}, {outcome}")


def facts_of(row: PortalFixture) -> dict[str, Any]:
    """What a stored fixture says of itself, as a fixture file repeats it."""
    return {
        "portal": row.portal,
        "portal_org_id": row.portal_org_id,
        "kind": row.kind,
        "page_path": row.page_path,
        "recipe": row.recipe,
        "recipe_read": row.recipe_read,
        "sha256": row.sha256,
        "size_bytes": row.size_bytes,
        "captured_at": row.created_at.isoformat(),
        "captured_by": row.created_by,
    }


def fixture_document(
    facts: dict[str, Any], fixture: Fixture, result: ReplayResult
) -> dict[str, Any]:
    """A fixture file: the fixture, and what ``result``'s recipe read of it."""
    return {
        "format": FILE_MARK,
        **{k: facts[k] for k in ("portal", "portal_org_id", "kind", "page_path", "recipe")},
        "recipe_read": facts["recipe_read"],
        "sha256": facts.get("sha256"),
        "captured_at": facts.get("captured_at"),
        "content": content_of(fixture.pages, fixture.kind),
        "expected": expected_of(result),
    }


def expected_of(result: ReplayResult) -> dict[str, Any]:
    """What a fixture file says a replay gives: the users read, or the message."""
    return {
        "recipe": result.recipe,
        "users": [user_record(u) for u in result.users],
        "total": result.total,
        "evidence": result.evidence,
        "error": result.error,
    }


def fixture_from_file(path: Path) -> tuple[dict[str, Any], Fixture]:
    """An exported fixture file: its facts and the fixture; ``FixtureError`` if it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FixtureError(f"{path}: not a readable JSON file ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FILE_MARK:
        raise FixtureError(f'{path}: not a fixture file (no "format": "{FILE_MARK}")')
    try:
        portal = Portal(data.get("portal"))
        kind = data.get("kind")
        pages = fixture_pages(str(kind), data.get("content"))
        org_id = data["portal_org_id"]
    except (ValueError, KeyError) as exc:
        raise FixtureError(f"{path}: {exc}") from None
    fixture = Fixture(portal, str(org_id), "json" if kind == "json" else "html", pages)
    return data, fixture


def _load(name: str) -> tuple[dict[str, Any], Fixture]:
    if name.isdigit():
        runtime = Runtime()
        with session_scope(runtime.engine) as session:
            row = get_fixture(session, int(name))
            if row is None:
                refuse(f"no fixture {name}: 'accessrecon portal fixtures list' shows them")
            try:
                return facts_of(row), fixture_of(row)
            except FixtureError as exc:
                refuse(f"fixture {name} cannot be read: {exc}")
    path = Path(name)
    if not path.is_file():
        refuse(f"{name}: give a fixture's number or an exported fixture file")
    try:
        return fixture_from_file(path)
    except FixtureError as exc:
        refuse(str(exc))


def _replay(fixture: Fixture, recipe_file: Path | None) -> ReplayResult:
    settings = Settings()
    try:
        loaded = (
            recipe_from_file(fixture.portal, recipe_file)
            if recipe_file is not None
            else current_book(settings.recipe_dir)[fixture.portal]
        )
    except RecipeError as exc:
        refuse(str(exc))
    try:
        return asyncio.run(replay_with_browser(fixture, loaded, settings))
    except (FixtureError, ChromiumNotFound) as exc:
        refuse(str(exc))


async def replay_with_browser(
    fixture: Fixture, loaded: LoadedRecipe, settings: Settings
) -> ReplayResult:
    """``replay``, in a headless Chromium of its own when the fixture is markup."""
    if fixture.kind != "html" or loaded.recipe.users.read != "pages":
        return await replay(fixture, loaded)
    from playwright.async_api import async_playwright

    from agent.crawl.browser import launch_browser

    async with async_playwright() as playwright:
        browser = await launch_browser(playwright, settings)
        try:
            context = await browser.new_context()
            return await replay(fixture, loaded, context)
        finally:
            await browser.close()
