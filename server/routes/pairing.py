"""Pairing: a one-time code becomes a bearer token. The only route that needs no token.

The code is shown by ``accessrecon pair`` (or an admin's dashboard) and typed into
the extension. A wrong, expired or used code gets one generic answer; every failure
counts against the live codes (``agent.security.pairing``), so guessing burns them.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field, StringConstraints

from agent.security.pairing import CLIENT_LENGTH, exchange_pairing_code
from server.deps import SessionDep
from server.schemas import Name, Problem, UserOut, user_out_from_principal

log = logging.getLogger(__name__)

router = APIRouter(tags=["pairing"])


class PairingExchangeIn(BaseModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="the code `accessrecon pair` showed; case, spaces and hyphens ignored"
    )
    label: Name = Field(
        default="", description="what this token is for, e.g. 'Chrome on Anna's laptop'"
    )


class PairingExchangeOut(BaseModel):
    token: str = Field(description="the bearer token; shown this once, store it safely")
    token_type: str = "bearer"  # noqa: S105  (the OAuth token type name)
    token_id: int
    user: UserOut


@router.post(
    "/pairing/exchange",
    responses={401: {"model": Problem, "description": "wrong, expired or used-up code"}},
)
def exchange(body: PairingExchangeIn, session: SessionDep, request: Request) -> PairingExchangeOut:
    """Exchange a pairing code for a bearer token."""
    client = request.headers.get("origin", "") or "no origin"
    issued = exchange_pairing_code(
        session, body.code, label=body.label, client=client[:CLIENT_LENGTH]
    )
    session.commit()
    if issued is None:
        log.info("pairing code refused (from %s)", client[:CLIENT_LENGTH])
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "that pairing code is wrong, expired or used up: ask for a new one "
            "('accessrecon pair')",
        )
    return PairingExchangeOut(
        token=issued.token, token_id=issued.token_id, user=user_out_from_principal(issued.principal)
    )
