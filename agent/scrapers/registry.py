"""Which scraper reads which portal: the recipe scraper, with the recipe in use.

A portal is read by its recipe (``recipe_book``: the shipped one, or the practice's
override); asking for an unknown kind is an error that names the kinds there are. A
recipe that does not validate raises ``RecipeError`` here, so a crawl that checks
its recipes first (``check_recipes``) is refused before it sends a request.
Importing this module loads the scrapers, and with them Playwright: the server and
the services never need it.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

from agent.domain import Portal
from agent.scrapers.base import Scraper
from agent.scrapers.recipe_book import RecipeBook, current_book
from agent.scrapers.recipe_scraper import RecipeScraper
from agent.scrapers.signin import SignInPages

#: the scrapers made from the latest book, made again when the book is replaced
_made: tuple[RecipeBook, dict[Portal, RecipeScraper]] | None = None


#: the recipes of the crawl running in this task (``check_recipes``): tasks started by
#: the crawl inherit them, other tasks and tests never see them
_crawl_book: ContextVar[RecipeBook | None] = ContextVar("crawl_recipes", default=None)


def check_recipes(override_dir: Path | None) -> RecipeBook:
    """The recipes of ``override_dir`` laid over the shipped ones, made those the
    current task (a crawl, and every task it starts) reads with; ``RecipeError`` with
    the file, key and reason if one is bad.

    A crawl calls it before it sends a request, with its settings' directory.
    """
    book = current_book(override_dir)
    _crawl_book.set(book)
    return book


def recipes_in_use() -> RecipeBook:
    """The current crawl's recipes, else those the environment's settings name."""
    book = _crawl_book.get()
    if book is not None:
        return book
    from agent.settings import Settings

    return current_book(Settings().recipe_dir)


def scraper_for(portal: Portal | str, book: RecipeBook | None = None) -> Scraper:
    """The scraper of a portal kind, reading with ``book``'s recipe (by default the
    recipes in use: the shipped ones and the overrides of ``ACCESSRECON_RECIPE_DIR``)."""
    global _made
    try:
        kind = Portal(portal)
    except ValueError:
        known = ", ".join(sorted(str(p) for p in Portal))
        raise ValueError(f"no scraper for portal {portal!r}; known portals: {known}") from None
    book = book if book is not None else recipes_in_use()
    if _made is None or _made[0] is not book:
        _made = (book, {})
    scrapers = _made[1]
    if kind not in scrapers:
        scrapers[kind] = RecipeScraper(book[kind])
    return scrapers[kind]


def registered_portals() -> list[Portal]:
    return sorted(Portal)


def sign_in_pages(portal: Portal | str) -> SignInPages:
    """The portal's sign-in pages: where they are, their labels and buttons, where a
    signed-in login lands."""
    scraper = scraper_for(portal)
    assert isinstance(scraper, RecipeScraper)
    return scraper.sign_in_pages
