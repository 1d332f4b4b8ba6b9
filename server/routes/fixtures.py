"""Support fixtures: a users page saved from the extension, redacted in the browser.

"Save this page for support" in the popup sends what the recipe in use reads of the
org's users page (its users JSON, or the user-list markup of every page), with every
name and e-mail already replaced by a placeholder. It is stored as a fixture that
``accessrecon portal fixtures replay`` parses offline with any recipe
(``agent.services.fixtures``, ``agent.scrapers.replay``).

A fixture shows how a client's org is set up (its roles, statuses and how many
people), so saving one is held to the caller's role and scope like a capture:
practice admins, partners and managers, for orgs of their clients. It is audited
(``fixture.saved``, with its SHA-256). A body over the limit is refused with 413
while it arrives (``server.body_limit.BodyLimit``), before it is parsed; a capture that still
holds an e-mail address other than a placeholder is refused (422).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from agent.domain import Portal
from agent.orgid import parse_org_id
from agent.security.principal import Principal
from agent.security.scope import client_in_scope
from agent.services.fixtures import (
    MAX_FIXTURE_BYTES,
    CaptureIn,
    FixtureRefused,
    FixtureTooLarge,
    save_fixture,
)
from agent.storage.links import client_of
from server.deps import CurrentUser, SessionDep
from server.schemas import OrgId, Problem

router = APIRouter(tags=["fixtures"])

PATH = "/fixtures"
#: room for the fields around the content, and for JSON the client spaced out
_BODY_ALLOWANCE = 64 * 1024


class FixtureIn(BaseModel):
    portal: Portal
    portal_org_id: OrgId
    recipe: str = Field(min_length=1, max_length=120, description="the recipe's label")
    kind: Literal["json", "html"]
    page_path: str = Field(min_length=1, max_length=500, description="the users page's path")
    recipe_read: bool = Field(description="whether the recipe found what it reads")
    content: dict[str, Any] = Field(description='{"format": 1, "pages": [...]}, redacted')

    @model_validator(mode="after")
    def _org_id_of_its_portal(self) -> Self:
        self.portal_org_id = parse_org_id(self.portal, self.portal_org_id)
        return self


class FixtureOut(BaseModel):
    id: int
    portal: Portal
    portal_org_id: str
    recipe: str
    kind: str
    recipe_read: bool
    pages: int
    sha256: str
    size_bytes: int
    created_at: datetime


def get_saver(principal: CurrentUser) -> Principal:
    """The caller, if their role may save pages of client orgs."""
    if not principal.can_capture:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "only practice admins, partners and managers may save portal pages for support",
        )
    return principal


FixtureSaver = Annotated[Principal, Depends(get_saver)]


@router.post(
    PATH,
    response_model=FixtureOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"model": Problem, "description": "an employee, or an org outside your scope"},
        413: {"model": Problem, "description": "the capture is larger than a fixture may be"},
        422: {"model": Problem, "description": "not a capture, or an e-mail left unreplaced"},
    },
)
def post_fixture(body: FixtureIn, session: SessionDep, principal: FixtureSaver) -> FixtureOut:
    """Store a users page the extension saved for support (already redacted)."""
    client = client_of(session, body.portal, body.portal_org_id)
    if not client_in_scope(session, principal, client):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this org is outside your client scope")
    capture = CaptureIn(
        portal=body.portal,
        portal_org_id=body.portal_org_id,
        recipe=body.recipe,
        kind=body.kind,
        page_path=body.page_path,
        recipe_read=body.recipe_read,
        content=body.content,
    )
    try:
        row = save_fixture(session, capture, actor=principal.actor)
    except FixtureTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except FixtureRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    session.commit()
    assert row.id is not None
    return FixtureOut(
        id=row.id,
        portal=Portal(row.portal),
        portal_org_id=row.portal_org_id,
        recipe=row.recipe,
        kind=row.kind,
        recipe_read=row.recipe_read,
        pages=len(body.content["pages"]),
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
    )


#: the most bytes a fixture's request may send (the capture and the JSON around it),
#: and what a larger one is told (``server.body_limit.BodyLimit``)
MAX_BODY_BYTES = MAX_FIXTURE_BYTES + _BODY_ALLOWANCE
TOO_LARGE = f"the capture is larger than a fixture may be ({MAX_FIXTURE_BYTES // 1024 // 1024} MB)"
