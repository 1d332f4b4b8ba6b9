"""The recipe in use for a portal, for the extension to know what to capture.

"Save this page for support" fetches what the agent's reader would fetch of the
org's users page (the users JSON at the recipe's path, or every page of every list
the recipe reads) and keeps only what the recipe reads, redacted in the browser. So
the extension asks which recipe is in use: the shipped one, or the practice's
override (``ACCESSRECON_RECIPE_DIR``), as the next crawl would read with it. Nothing
here is secret: paths, keys, headers or selectors, the range and empty texts and the
status values a portal shows. Any paired user may ask.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from agent.domain import Portal
from agent.scrapers.recipe_book import RecipeError
from agent.services.fixtures import capture_recipe
from server.deps import CurrentUser, RuntimeDep
from server.schemas import Problem

router = APIRouter(tags=["fixtures"])


@router.get(
    "/recipes/{portal}",
    responses={503: {"model": Problem, "description": "the practice's override does not load"}},
)
def get_recipe(portal: Portal, runtime: RuntimeDep, _caller: CurrentUser) -> dict[str, Any]:
    """The recipe in use: ``label``, ``version`` and its ``users``, ``values`` and
    ``texts`` sections as the recipe file gives them."""
    try:
        return capture_recipe(portal, runtime.settings.recipe_dir)
    except RecipeError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the recipe in use does not load: {exc}"
        ) from None
