"""A client's access statement for the API and the dashboard: scope, the file, the audit.

Both hand out the statement of one client (by its id in the database) to a caller
whose client scope holds it; a client outside the scope answers like one that does
not exist, so neither reveals it. Handing out the statement is an export of client
data: it is recorded (``export.client_statement``, with the SHA-256 of the exact
bytes) and committed before the bytes are returned. The PDF is the command line's
(the server never drives a browser); here the statement is the printable HTML page
or the ``.eml`` draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlmodel import Session

from agent.reports.statement import (
    EML_MEDIA_TYPE,
    HTML_MEDIA_TYPE,
    statement_email,
    statement_filename,
    statement_html,
)
from agent.security.audit import record, sha256_hex
from agent.security.principal import Principal
from agent.security.scope import Scope
from agent.services.removals.statements import ClientStatement, build_statement
from agent.storage.models import Client
from server.exports import Export

NOT_FOUND = "no such client in your scope"


class StatementFormat(StrEnum):
    HTML = "html"
    EML = "eml"


class StatementNotFound(LookupError):
    """The client does not exist, or is outside the caller's scope: the same answer."""


def visible_statement(session: Session, scope: Scope, client_id: int) -> ClientStatement:
    """The statement of ``client_id``, if the caller's scope holds that client."""
    client = session.get(Client, client_id)
    if client is None or not scope.allows(client.id):
        raise StatementNotFound(NOT_FOUND)
    return build_statement(session, client)


def statement_export(
    session: Session,
    principal: Principal,
    scope: Scope,
    statement: ClientStatement,
    fmt: StatementFormat,
    *,
    sender: str,
    via: str,
    stylesheet: str | None = None,
    actions: Sequence[tuple[str, str]] = (),
) -> Export:
    """The statement's bytes in ``fmt``, recorded in the audit log and committed.

    Raises ``agent.services.removals.statements.StatementError`` for an ``.eml`` of a
    client without a usable contact email.
    """
    html = statement_html(statement, stylesheet=stylesheet, actions=actions)
    if fmt is StatementFormat.EML:
        content = statement_email(statement, html, sender=sender).as_bytes()
        media_type = EML_MEDIA_TYPE
    else:
        content = html.encode("utf-8")
        media_type = HTML_MEDIA_TYPE
    digest = sha256_hex(content)
    filename = statement_filename(statement, fmt.value)
    record(
        session,
        actor=principal.actor,
        action="export.client_statement",
        detail={
            **scope.describe(),
            "format": fmt.value,
            "via": via,
            "client_id": statement.client_id,
            "client": statement.external_id,
            "people": statement.people_count,
            "requests": statement.request_count,
            "unread_orgs": len(statement.unread),
            "rows": statement.people_count,
            "sha256": digest,
            "filename": filename,
        },
    )
    session.commit()
    return Export(content, filename, media_type, statement.people_count, digest)
