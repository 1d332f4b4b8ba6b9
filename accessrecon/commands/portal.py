"""``accessrecon portal …``: a portal seen from the recipe's side.

``check`` walks a login's portal step by step with the recipe in use and says, for a
step that fails, what it saw instead, so whoever fixes the recipe knows which key to
change (``agent.crawl.portal_check``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from accessrecon.commands.portal_fixtures import fixtures_app
from accessrecon.console import console, refuse, say
from agent.crawl.polite import limits_for
from agent.runtime import Runtime
from agent.scrapers.timeouts import use_scrape_timeout
from agent.storage.db import session_scope
from agent.storage.models import PortalLogin

if TYPE_CHECKING:
    from agent.crawl.portal_check import PortalCheck

portal_app = typer.Typer(
    help="Check a portal against its recipe; support fixtures of portal pages.",
    no_args_is_help=True,
)
portal_app.add_typer(fixtures_app, name="fixtures")


@portal_app.command("check")
def portal_check(
    login: Annotated[int, typer.Option("--login", help="the login's id (accessrecon login list)")],
    org: Annotated[
        str | None, typer.Option(help="read this org's users (the portal's own id); else the first")
    ] = None,
) -> None:
    """Walk a login's portal step by step with the recipe in use; exit 1 at a failing step.

    Each step says what it found; a failing one also says what the portal showed
    instead (title, headings, labels, buttons, table headers, JSON keys), so the recipe
    key to change can be found. Nothing is recorded: no crawl, no scan.
    """
    runtime = Runtime()
    with session_scope(runtime.engine) as session:
        row = session.get(PortalLogin, login)
        if row is None:
            refuse(f"no login with id {login}; see accessrecon login list")
        session.expunge(row)
    from agent.crawl.browser import launch_browser  # loads Playwright
    from agent.crawl.portal_check import check_portal
    from agent.crawl.store import CrawlStore
    from agent.scrapers.recipe_book import RecipeError
    from agent.scrapers.recipe_scraper import RecipeScraper
    from agent.scrapers.registry import check_recipes

    try:
        book = check_recipes(runtime.settings.recipe_dir)
    except RecipeError as exc:
        refuse(str(exc))
    scraper = RecipeScraper(book[row.portal])
    use_scrape_timeout(runtime.settings.scrape_timeout_s)
    say(f"login {row.id}: {row.portal} {row.email} at {row.base_url}")
    say(f"recipe {scraper.label}: {', '.join(scraper.loaded.sources)}")
    say("polite: " + limits_for(row.portal, runtime.settings, base_url=row.base_url).describe())

    async def run() -> PortalCheck:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, runtime.settings)
            try:
                return await check_portal(
                    browser, CrawlStore(runtime.engine, runtime.box), row, scraper, org=org
                )
            finally:
                await browser.close()

    check = asyncio.run(run())
    table = Table("step", "", "found")
    for step in check.steps:
        mark = Text("ok", style="green") if step.ok else Text("FAILED", style="bold red")
        found = step.found + "".join(f"\n  saw {line}" for line in step.saw)
        table.add_row(step.name, mark, Text(found))
    console.print(table)
    if not check.ok:
        failed = next(step for step in check.steps if not step.ok)
        refuse(f"portal check of login {row.id} failed at '{failed.name}': {failed.found}")
