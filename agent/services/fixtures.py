"""Support fixtures: users pages saved from the extension, redacted, to replay offline.

When a portal changes a page, whoever fixes its recipe needs the page, not the
practice's client data. The extension therefore asks for the recipe in use
(``capture_recipe``: what to fetch and which words it reads), fetches the org's users
JSON or user-list markup with the page's own session, replaces every name and e-mail
in the browser and sends the result here. ``save_fixture`` checks the capture's shape
(``agent.scrapers.replay.fixture_pages``) and, as a last guard, that no e-mail address
is left but the placeholders, stores it with its SHA-256 and records the audit event.
``fixture_of`` turns a stored row into what ``replay`` reads.

A capture is bounded (``MAX_FIXTURE_BYTES``): a users list of thousands fits many
times over, and anything larger is refused, not cut.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from agent.clock import utcnow
from agent.domain import Portal
from agent.orgid import parse_org_id
from agent.scrapers.recipe_book import LoadedRecipe, current_book
from agent.scrapers.replay import (
    KINDS,
    Fixture,
    FixtureError,
    FixtureKind,
    content_text,
    fixture_pages,
)
from agent.security.audit import record
from agent.storage.models import PortalFixture
from agent.storage.widths import width

#: the largest content a fixture may hold, as stored (UTF-8)
MAX_FIXTURE_BYTES = 2 * 1024 * 1024
#: the domain every e-mail of a capture is replaced into (RFC 2606: never delivered)
PLACEHOLDER_DOMAIN = "example.invalid"
#: an e-mail address as text shows one: its last label starts with a letter (not a version)
_EMAIL = re.compile(r"[\w.%+!#$&'*/=?^`{|}~-]+@((?:[\w-]+\.)+[^\W\d_][\w-]*)")


class FixtureRefused(ValueError):
    """A capture that cannot be saved; the message says why in one line."""


class FixtureTooLarge(FixtureRefused):
    """A capture over ``MAX_FIXTURE_BYTES``."""


@dataclass(frozen=True, slots=True)
class CaptureIn:
    """A capture as the extension sends it."""

    portal: Portal
    portal_org_id: str
    recipe: str
    kind: str
    page_path: str
    recipe_read: bool
    content: Mapping[str, Any]


def capture_recipe(portal: Portal, override_dir: Path | None) -> dict[str, Any]:
    """The recipe in use for ``portal``, as the extension reads it to capture a page:
    where the users are and what the reader looks for (paths, keys, headers or
    selectors, range and empty texts, status values). ``RecipeError`` for a bad one."""
    return recipe_document(current_book(override_dir)[portal])


def recipe_document(loaded: LoadedRecipe) -> dict[str, Any]:
    recipe = loaded.recipe
    return {
        "portal": str(recipe.portal),
        "label": loaded.label,
        "version": recipe.version,
        "users": recipe.users.model_dump(mode="json", by_alias=True),
        "values": recipe.values.model_dump(mode="json", by_alias=True),
        "texts": recipe.texts.model_dump(mode="json", by_alias=True),
    }


def save_fixture(
    session: Session, capture: CaptureIn, *, actor: str, now: datetime | None = None
) -> PortalFixture:
    """Store a capture, or ``FixtureRefused`` naming what is wrong (nothing stored).

    Works in the caller's transaction and records the ``fixture.saved`` audit event;
    the commit is the caller's.
    """
    org_id = _org_id(capture.portal, capture.portal_org_id)
    kind = _kind(capture.kind)
    _check_path(capture.page_path)
    if not capture.recipe.strip() or len(capture.recipe) > width(PortalFixture.recipe):
        raise FixtureRefused("recipe: name the recipe the page was captured for")
    try:
        fixture_pages(kind, capture.content)
    except FixtureError as exc:
        raise FixtureRefused(f"content: {exc}") from None
    text = content_text(capture.content)
    size = len(text.encode("utf-8"))
    if size > MAX_FIXTURE_BYTES:
        raise FixtureTooLarge(
            f"the capture is {size / 1024 / 1024:.1f} MB; a fixture holds at most"
            f" {MAX_FIXTURE_BYTES // 1024 // 1024} MB"
        )
    left = unredacted_email(text)
    if left is not None:
        raise FixtureRefused(
            "content: an e-mail address was not replaced by a placeholder"
            f" (one at {PLACEHOLDER_DOMAIN} was expected, found one at {left})"
        )
    row = PortalFixture(
        portal=str(capture.portal),
        portal_org_id=org_id,
        recipe=capture.recipe.strip(),
        kind=kind,
        page_path=capture.page_path,
        recipe_read=capture.recipe_read,
        content=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        size_bytes=size,
        created_by=actor,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="fixture.saved",
        detail={
            "fixture_id": row.id,
            "portal": row.portal,
            "portal_org_id": row.portal_org_id,
            "kind": row.kind,
            "recipe": row.recipe,
            "recipe_read": row.recipe_read,
            "pages": len(capture.content["pages"]),
            "sha256": row.sha256,
            "size_bytes": size,
        },
    )
    return row


def unredacted_email(text: str) -> str | None:
    """The domain of the first e-mail address in ``text`` that is not a placeholder."""
    for found in _EMAIL.finditer(text):
        if found.group(1).casefold() != PLACEHOLDER_DOMAIN:
            return found.group(1)
    return None


def list_fixtures(session: Session, *, limit: int = 50) -> list[PortalFixture]:
    """The latest fixtures, newest first."""
    query = select(PortalFixture).order_by(col(PortalFixture.id).desc()).limit(limit)
    return list(session.exec(query))


def get_fixture(session: Session, fixture_id: int) -> PortalFixture | None:
    return session.get(PortalFixture, fixture_id)


def fixture_of(row: PortalFixture) -> Fixture:
    """A stored fixture as ``replay`` reads it."""
    kind = _kind(row.kind)
    pages = fixture_pages(kind, json.loads(row.content))
    return Fixture(Portal(row.portal), row.portal_org_id, kind, pages)


def _kind(kind: str) -> FixtureKind:
    for known in KINDS:
        if kind == known:
            return known
    raise FixtureRefused(f"kind: {kind!r} is not a kind of fixture; use json or html")


def _org_id(portal: Portal, raw: str) -> str:
    try:
        return parse_org_id(portal, raw)
    except ValueError as exc:
        raise FixtureRefused(f"portal_org_id: {exc}") from None


def _check_path(path: str) -> None:
    if (
        not path.startswith("/")
        or path.startswith("//")
        or len(path) > width(PortalFixture.page_path)
        or any(c in path for c in "\x00?#")
    ):
        raise FixtureRefused(
            "page_path: give the users page's path on the portal (``/app/…``),"
            " without a query or fragment"
        )
