"""Portal pages saved for support: a users page as the extension captured it, redacted.

When a portal changes its pages, the person fixing the recipe needs to see what the
page now holds without being given the practice's client data. The extension saves
the user list's JSON or markup with every name and e-mail already replaced in the
browser (``Person 1``, ``person1@example.invalid``); a fixture row keeps that content
with its SHA-256, so it can be replayed offline with any recipe
(``agent.scrapers.replay``) and exported as a regression test. Rows are never
changed once saved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from agent.clock import utcnow

__all__ = ["PortalFixture"]


class PortalFixture(SQLModel, table=True):
    """One saved users page of one org: what the recipe reads of it, redacted."""

    __tablename__ = "portal_fixture"

    id: int | None = Field(default=None, primary_key=True)
    portal: str = Field(max_length=16)
    portal_org_id: str = Field(max_length=64)
    #: the recipe the page was captured for (``qbo@2026.12.1``): it named what to fetch
    recipe: str = Field(max_length=120)
    #: ``json`` (the users JSON, every page) or ``html`` (the user-list markup, every page)
    kind: str = Field(max_length=8)
    #: the users page the person was on, with the org's id (``/app/!x7Kp2/settings/users``)
    page_path: str = Field(max_length=500)
    #: whether the recipe found what it reads on every page captured
    recipe_read: bool
    #: the redacted pages as JSON text (``agent.scrapers.replay``'s format)
    content: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    size_bytes: int
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
