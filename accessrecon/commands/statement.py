"""``accessrecon client-statement CLIENT -o FILE``: a client's access statement.

Everyone who can reach the client's books in each portal, the people the practice
asks the client to remove and why, and the steps to remove someone in each portal
(``agent.services.removals.statements``, ``agent.reports.statement``). The output's
suffix picks the form: ``.pdf`` (printed by Chromium), ``.html`` (the same page)
or ``.eml`` (a draft email to the client's ``contact_email``, from ``smtp_from``).

Like every export of client data, the file is readable by its owner only (mode
0600) and recorded in the audit log (``export.client_statement``) with the
SHA-256 of exactly the bytes written. A refused request (an unknown client, an
unknown suffix, a client without a contact email) prints one line on stderr and
exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accessrecon.console import cli_actor, console, refuse
from agent.filemodes import open_private
from agent.reports.statement import statement_email, statement_html
from agent.runtime import Runtime
from agent.security.audit import record, sha256_hex
from agent.services.removals.statements import (
    ClientStatement,
    StatementError,
    build_statement,
    find_client,
)
from agent.storage.db import session_scope

SUFFIXES = (".pdf", ".html", ".eml")


def _content(statement: ClientStatement, suffix: str, runtime: Runtime) -> bytes:
    html = statement_html(statement)
    if suffix == ".html":
        return html.encode("utf-8")
    if suffix == ".eml":
        return statement_email(statement, html, sender=runtime.settings.smtp_from).as_bytes()
    from agent.crawl.pdf import html_to_pdf  # Playwright: only a PDF pays for loading it

    return html_to_pdf(html, runtime.settings)


def client_statement(
    client: Annotated[
        str, typer.Argument(help="the client's id in your client list, or exact name")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", dir_okay=False, help="the file to write: .pdf, .html or .eml"
        ),
    ],
) -> None:
    """A client's access statement: who can reach their books, whom to remove, and how."""
    suffix = output.suffix.lower()
    if suffix not in SUFFIXES:
        refuse(
            f"-o {output.name}: unknown suffix {suffix or '(none)'!r}; "
            f"use one of {', '.join(SUFFIXES)}"
        )
    runtime = Runtime()
    try:
        with session_scope(runtime.engine) as session:
            statement = build_statement(session, find_client(session, client))
        content = _content(statement, suffix, runtime)
    except StatementError as exc:
        refuse(str(exc))
    with open_private(output, "wb") as handle:
        handle.write(content)
    with session_scope(runtime.engine) as session:
        record(
            session,
            actor=cli_actor(),
            action="export.client_statement",
            detail={
                "format": suffix.lstrip("."),
                "client_id": statement.client_id,
                "client": statement.external_id,
                "people": statement.people_count,
                "requests": statement.request_count,
                "unread_orgs": len(statement.unread),
                "sha256": sha256_hex(content),
                "filename": output.name,
            },
        )
    console.print(
        f"{output}: {statement.people_count} people in {len(statement.orgs)} files, "
        f"{statement.request_count} to remove, {len(statement.unread)} not read",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
