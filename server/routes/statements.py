"""A client's access statement: the printable page, or the draft email to the client.

Unlike the other downloads this is a GET, as a statement is linked to and opened
from a page; it is still recorded in the audit log like every export of client
data (``server.statements``). The PDF comes from the command line
(``accessrecon client-statement``): the server never drives a browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from agent.services.removals.statements import StatementError
from server.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep
from server.exports import download
from server.schemas import IdPath, Problem
from server.statements import (
    StatementFormat,
    StatementNotFound,
    statement_export,
    visible_statement,
)

router = APIRouter(tags=["statements"])


@router.get(
    "/clients/{client_id}/statement",
    responses={
        200: {
            "content": {"text/html": {}, "message/rfc822": {}},
            "description": "the statement page, or the draft email (.eml)",
        },
        404: {"model": Problem},
        409: {"model": Problem},
    },
)
def get_client_statement(
    client_id: IdPath,
    session: SessionDep,
    runtime: RuntimeDep,
    scope: ScopeDep,
    principal: CurrentUser,
    fmt: Annotated[
        StatementFormat, Query(alias="format", description="html (the page) or eml (an email)")
    ] = StatementFormat.HTML,
) -> Response:
    """Everyone who can reach a client's books, whom to remove and how (client in your scope)."""
    try:
        statement = visible_statement(session, scope, client_id)
        export = statement_export(
            session, principal, scope, statement, fmt, sender=runtime.settings.smtp_from, via="api"
        )
    except StatementNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except StatementError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return download(export)
