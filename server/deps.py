"""Typed dependencies, so route functions read like data.

``CurrentUser`` is the only way a route learns who is calling: it reads the bearer
token from the ``Authorization`` header (never from the URL or a cookie) and answers
401 for a missing, unknown or revoked one. ``AdminUser`` and ``ReviewerUser`` add the
role checks; ``ScopeDep`` is the caller's client scope, resolved for this request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from agent.runtime import Runtime
from agent.security.principal import Principal
from agent.security.scope import Scope, resolve_scope
from agent.security.secrets import SecretBox
from agent.security.tokens import authenticate
from server.config import ServerSettings


# Dependencies that only read app state are ``async``: they run on the event loop
# instead of taking a thread-pool hop each on every request.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.box
    return box


async def get_server_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.server_settings
    return settings


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    with Session(runtime.engine) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]
BoxDep = Annotated[SecretBox, Depends(get_box)]
ServerSettingsDep = Annotated[ServerSettings, Depends(get_server_settings)]

bearer = HTTPBearer(
    auto_error=False,
    description="A token from pairing: `accessrecon pair` shows a code, "
    "POST /api/v1/pairing/exchange turns it into a token.",
)

UNAUTHENTICATED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="a valid bearer token is required: pair this client with 'accessrecon pair'",
    headers={"WWW-Authenticate": "Bearer"},
)


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise UNAUTHENTICATED
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise UNAUTHENTICATED
    request.state.actor = principal.actor
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def get_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a practice admin may do this")
    return principal


def get_reviewer(principal: CurrentUser) -> Principal:
    if not principal.can_review:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "only practice admins, partners and managers record review decisions",
        )
    return principal


def get_scope(session: SessionDep, principal: CurrentUser) -> Scope:
    return resolve_scope(session, principal)


AdminUser = Annotated[Principal, Depends(get_admin)]
ReviewerUser = Annotated[Principal, Depends(get_reviewer)]
ScopeDep = Annotated[Scope, Depends(get_scope)]
