"""A client's access statement as a printable page, and as files to download.

The page is the statement itself (``agent.reports.statement``) with its stylesheet
linked rather than inline, which the dashboard's CSP requires; it prints with the
browser's own print-to-PDF, and its on-screen links (the downloads, back to the
orgs) are not printed. The downloads are the statement as one HTML file that stands
alone (its stylesheet inline, to open, print or attach anywhere) and the ``.eml``
draft to send the client. Each is an export of client data, recorded like the API's
(``server.statements``). A client outside the viewer's scope answers 404, like one
that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from agent.reports.statement import STATEMENT_CSS
from agent.services.removals.statements import ClientStatement, StatementError
from server.dashboard.web import PREFIX, DashboardError, Viewer, ViewerDep
from server.deps import RuntimeDep, SessionDep
from server.exports import download
from server.schemas import MAX_ID
from server.statements import (
    NOT_FOUND,
    StatementFormat,
    StatementNotFound,
    statement_export,
    visible_statement,
)

router = APIRouter()

STYLESHEET = f"{PREFIX}/statement.css"


def _statement(session: SessionDep, viewer: Viewer, client_id: int) -> ClientStatement:
    if not 1 <= client_id <= MAX_ID:
        raise DashboardError(404, f"There is {NOT_FOUND}.")
    try:
        return visible_statement(session, viewer.scope, client_id)
    except StatementNotFound:
        raise DashboardError(404, f"There is {NOT_FOUND}.") from None


@router.get("/statement.css")
def statement_css() -> Response:
    return Response(STATEMENT_CSS, media_type="text/css; charset=utf-8")


@router.get("/clients/{client_id}/statement")
def statement_page(
    client_id: int, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep
) -> Response:
    statement = _statement(session, viewer, client_id)
    export = statement_export(
        session,
        viewer.principal,
        viewer.scope,
        statement,
        StatementFormat.HTML,
        sender=runtime.settings.smtp_from,
        via="dashboard",
        stylesheet=STYLESHEET,
        actions=(
            (f"{PREFIX}/clients/{client_id}/statement.html", "Download this statement (.html)"),
            (f"{PREFIX}/clients/{client_id}/statement.eml", "Download the email draft (.eml)"),
            (f"{PREFIX}/orgs", "Back to orgs"),
        ),
    )
    return HTMLResponse(export.content)


@router.get("/clients/{client_id}/statement.html")
def statement_file(
    client_id: int, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep
) -> Response:
    """The statement as a file of its own, its stylesheet inline."""
    statement = _statement(session, viewer, client_id)
    export = statement_export(
        session,
        viewer.principal,
        viewer.scope,
        statement,
        StatementFormat.HTML,
        sender=runtime.settings.smtp_from,
        via="dashboard",
    )
    return download(export)


@router.get("/clients/{client_id}/statement.eml")
def statement_eml(
    client_id: int, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep
) -> Response:
    statement = _statement(session, viewer, client_id)
    try:
        export = statement_export(
            session,
            viewer.principal,
            viewer.scope,
            statement,
            StatementFormat.EML,
            sender=runtime.settings.smtp_from,
            via="dashboard",
        )
    except StatementError as exc:
        raise DashboardError(409, str(exc)) from None
    return download(export)
