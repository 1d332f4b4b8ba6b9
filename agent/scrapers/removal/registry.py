"""The remover for a portal: the recipe remover, with the recipe in use."""

from __future__ import annotations

from agent.domain import Portal
from agent.scrapers.recipe_book import RecipeBook
from agent.scrapers.registry import recipes_in_use
from agent.scrapers.removal.base import Remover
from agent.scrapers.removal.recipe_remover import RecipeRemover


def remover_for(portal: Portal | str, book: RecipeBook | None = None) -> Remover:
    """The remover of a portal kind, by ``book``'s recipe (by default the recipes in use)."""
    loaded = (book if book is not None else recipes_in_use())[Portal(portal)]
    return RecipeRemover(loaded)
