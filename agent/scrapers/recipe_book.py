"""Which recipe reads each portal: the shipped one, or the practice's override.

Recipes ship in ``agent/scrapers/recipes/{portal}.toml``. A practice that must fix a
changed portal before the next release puts a file of the same name in its override
directory (``ACCESSRECON_RECIPE_DIR``): it is laid over the shipped recipe (tables
merge key by key, any other value, arrays too, replaces the shipped one), so a fix can
be three lines. An override must give its own ``version``, so that every scan it reads
records which fix read it.

Everything is checked when the recipes are loaded, before any request is sent: TOML
syntax, the schema (``recipe``), the file names. A recipe that does not validate
is refused with its file, the key and the reason (``RecipeError``), never half used.
The book is loaded again whenever a file of the override directory changes, so a fix
applies to the next crawl without a restart.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from threading import Lock
from typing import Any

from pydantic import ValidationError

from agent.domain import Portal
from agent.scrapers.recipe import Recipe

#: the union tags of the schema, which pydantic puts in an error's location
_TAGS = frozenset({"json", "table", "links", "pages", "token", "form"})


class RecipeError(ValueError):
    """A recipe that cannot be used: its file, the key and the reason, in one line."""


@dataclass(frozen=True, slots=True)
class LoadedRecipe:
    recipe: Recipe
    #: where it came from: the shipped file, and the override laid over it if any
    sources: tuple[str, ...]
    overridden: bool

    @property
    def label(self) -> str:
        """``xero@2026.12.1``, ``(override)`` added for a practice's own fix: what a
        scan records of the recipe that read it."""
        return self.recipe.label + (" (override)" if self.overridden else "")


@dataclass(frozen=True, slots=True)
class RecipeBook:
    recipes: Mapping[Portal, LoadedRecipe]

    def __getitem__(self, portal: Portal | str) -> LoadedRecipe:
        return self.recipes[Portal(portal)]


def shipped_path(portal: Portal) -> str:
    return f"agent/scrapers/recipes/{portal}.toml"


def shipped_text(portal: Portal) -> str:
    return (resources.files("agent.scrapers") / "recipes" / f"{portal}.toml").read_text("utf-8")


def load_book(override_dir: Path | None = None) -> RecipeBook:
    """Every portal's recipe, overrides applied; ``RecipeError`` for the first bad one."""
    overrides = _override_files(override_dir)
    book: dict[Portal, LoadedRecipe] = {}
    for portal in Portal:
        data = parse_toml(shipped_text(portal), shipped_path(portal))
        sources = [shipped_path(portal)]
        override = overrides.get(portal)
        if override is not None:
            laid = parse_toml(override.read_text("utf-8"), str(override))
            if "version" not in laid:
                raise RecipeError(
                    f"{override}: version: an override must give its own version"
                    " (scans record the version that read them)"
                )
            data = merge(data, laid)
            sources.append(str(override))
        book[portal] = LoadedRecipe(
            validate(data, sources[-1], portal), tuple(sources), override is not None
        )
    return RecipeBook(book)


def parse_toml(text: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{file}: not valid TOML: {exc}") from None


def validate(data: Mapping[str, Any], file: str, portal: Portal | None = None) -> Recipe:
    """The recipe ``data`` holds, or ``RecipeError`` naming the file, key and reason."""
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "not a key of a recipe (a misspelling?)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RecipeError(f"{file}: {key_of(error['loc']) or '(top)'}: {reason}{more}") from None
    if portal is not None and recipe.portal != portal:
        raise RecipeError(f"{file}: portal: says {recipe.portal!s}, the file is for {portal!s}")
    return recipe


def key_of(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the recipe key a person edits (``users.lists[1].path``)."""
    key = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            key += f"[{part}]"
        elif part in _TAGS and i > 0 and loc[i - 1] in ("orgs", "users", "removal"):
            continue  # which reader the table is, not a key of the file
        else:
            key += f".{part}" if key else str(part)
    return key


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``: tables merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _override_files(directory: Path | None) -> dict[Portal, Path]:
    if directory is None:
        return {}
    if not directory.is_dir():
        raise RecipeError(f"{directory}: the recipe override directory does not exist")
    files: dict[Portal, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            files[Portal(path.stem)] = path
        except ValueError:
            known = ", ".join(f"{p}.toml" for p in Portal)
            raise RecipeError(f"{path}: not a portal's recipe; name it one of {known}") from None
    return files


_lock = Lock()
_cached: tuple[object, RecipeBook] | None = None


def current_book(override_dir: Path | None = None) -> RecipeBook:
    """The recipes in use, loaded again when the override directory's files change."""
    global _cached
    stamp = _stamp(override_dir)
    with _lock:
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
        book = load_book(override_dir)
        _cached = (stamp, book)
        return book


def _stamp(directory: Path | None) -> object:
    if directory is None or not directory.is_dir():
        return (directory,)
    return (
        directory,
        tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*"))
        ),
    )
