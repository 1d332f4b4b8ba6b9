"""The client access statement: what it lists, how it escapes, its PDF, email and command."""

from __future__ import annotations

import hashlib
import io
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select
from typer.testing import CliRunner

from accessrecon.cli import app
from agent.filemodes import mode_of
from agent.reports.statement import statement_email, statement_html
from agent.runtime import Runtime
from agent.services.removals.statements import (
    Origin,
    StatementError,
    build_statement,
    find_client,
)
from agent.storage.db import session_scope
from agent.storage.models import AuditEvent, Finding
from tests.factories import DOMAIN
from tests.statement_world import (
    AGENT,
    CLIENT_NAME,
    CONTACT,
    DECLINED,
    LISTED,
    MYOB_ORG,
    OWNER_NAME,
    QBO_ORG,
    XERO_ORG,
    StatementWorld,
    build,
)


@pytest.fixture
def world(runtime: Runtime) -> StatementWorld:
    return build(runtime)


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The command line on the runtime's own database."""
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", runtime.settings.database_url)
    return CliRunner()


def _statement(runtime: Runtime, key: str = CLIENT_NAME):
    with session_scope(runtime.engine) as session:
        return build_statement(session, find_client(session, key))


def test_the_statement_lists_who_can_reach_the_books_and_how(
    runtime: Runtime, world: StatementWorld
) -> None:
    statement = _statement(runtime)
    assert statement.client_id == world.client_id
    assert [(o.portal, o.portal_org_id) for o in statement.orgs] == [
        ("xero", XERO_ORG),
        ("qbo", QBO_ORG),
        ("myob", MYOB_ORG),
    ]
    xero, qbo, myob = statement.orgs
    origins = {p.email: p.origin for p in xero.people}
    assert origins == {
        f"ben@{DOMAIN}": Origin.PRACTICE_GRANT,
        f"ana@{DOMAIN}": Origin.PRACTICE_GRANT,
        f"ivy@{DOMAIN}": Origin.CLIENT_INVITE,
        "owner@obrien.example": Origin.CLIENT_USER,
        "books@obrien.example": Origin.CLIENT_USER,
        AGENT: Origin.REVIEW_LOGIN,
    }
    assert DECLINED[0] not in origins  # a declined invitation is not access
    assert {p.email for p in xero.people if p.to_remove} == {f"ben@{DOMAIN}"}
    assert {p.email: p.status for p in xero.people}["books@obrien.example"] == "pending"
    with Session(runtime.engine) as session:
        ben = session.exec(select(Finding).where(Finding.identity == f"ben@{DOMAIN}")).one()
    assert {p.email: p.since for p in xero.people}[f"ben@{DOMAIN}"] == ben.first_seen_at
    [request] = xero.requests
    assert (request.email, request.why_client) == (f"ben@{DOMAIN}", "agent lacks Manage users")
    assert request.why_remove == "no longer works at the practice"
    # never read: no one listed, and the statement knows it is unread
    assert (qbo.read, qbo.people, qbo.failed_reason) == (False, [], "no_permission")
    assert (myob.read, myob.people, myob.org_name) == (False, [], "")
    assert statement.unread == [qbo, myob]
    assert (statement.people_count, statement.request_count) == (6, 1)


def test_a_client_is_found_by_its_id_or_exact_name_and_nothing_else(
    runtime: Runtime, world: StatementWorld
) -> None:
    with session_scope(runtime.engine) as session:
        assert find_client(session, f"C-{CLIENT_NAME}").id == world.client_id
        assert find_client(session, CLIENT_NAME).id == world.client_id
        with pytest.raises(StatementError, match="no client has client id or name 'obrien'"):
            find_client(session, "obrien")


def test_the_page_escapes_every_name_and_says_what_was_not_read(
    runtime: Runtime, world: StatementWorld
) -> None:
    page = statement_html(_statement(runtime))
    assert "O&#39;Brien &lt;Bakers&gt; &amp; Sons" in page
    assert "Olive &lt;O&#39;Brien&gt; &amp; Co" in page
    assert "<Bakers>" not in page
    assert "<O'Brien>" not in page
    assert page.count("Not read:") == 2
    assert "failed: no permission" in page
    assert "not a statement that nobody has access" in page
    assert "<style>" in page
    assert "<link" not in page  # self-contained: nothing fetched
    for steps in ("Settings, then Users", "Manage users", "Users and permissions"):
        assert steps in page


def test_the_email_needs_the_clients_contact_address(runtime: Runtime) -> None:
    build(runtime, contact="")
    statement = _statement(runtime)
    with pytest.raises(StatementError) as refused:
        statement_email(statement, statement_html(statement), sender="p@harbourco.example")
    message = str(refused.value)
    assert CLIENT_NAME in message
    assert "`contact_email`" in message
    assert "clients import" in message


def _pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())


def _audit(runtime: Runtime) -> list[AuditEvent]:
    with Session(runtime.engine) as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.action == "export.client_statement"))
        )


@pytest.mark.browser
def test_the_pdf_names_the_client_and_everyone_listed(
    cli: CliRunner, runtime: Runtime, world: StatementWorld, tmp_path: Path, chromium_path: str
) -> None:
    out = tmp_path / "statement.pdf"
    result = cli.invoke(app, ["client-statement", f"C-{CLIENT_NAME}", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 people in 3 files, 1 to remove, 2 not read" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert mode_of(out) == 0o600
    text = _pdf_text(out)
    assert CLIENT_NAME in text
    for email, name in LISTED:
        assert email in text, email
        for word in name.split():
            assert word in text, name
    assert DECLINED[0] not in text
    assert text.count("Not read") == 2
    [event] = _audit(runtime)
    assert event.detail["format"] == "pdf"
    assert event.detail["client_id"] == world.client_id
    assert event.detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_the_eml_is_a_draft_to_the_clients_contact(
    cli: CliRunner, runtime: Runtime, world: StatementWorld, tmp_path: Path
) -> None:
    out = tmp_path / "statement.eml"
    result = cli.invoke(app, ["client-statement", CLIENT_NAME, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert mode_of(out) == 0o600
    parsed = BytesParser(policy=policy.default).parsebytes(out.read_bytes())
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == CONTACT
    assert parsed["From"] == runtime.settings.smtp_from
    assert CLIENT_NAME in parsed["Subject"]
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "Ben Brennan <ben@harbourco.example>" in text.get_content()
    assert "Olive &lt;O&#39;Brien&gt; &amp; Co" in html.get_content()
    assert OWNER_NAME not in html.get_content()
    [event] = _audit(runtime)
    assert event.detail["format"] == "eml"
    assert event.detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_the_html_file_is_the_printable_page(
    cli: CliRunner, runtime: Runtime, world: StatementWorld, tmp_path: Path
) -> None:
    out = tmp_path / "statement.HTML"
    result = cli.invoke(app, ["client-statement", CLIENT_NAME, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "O&#39;Brien &lt;Bakers&gt; &amp; Sons" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "statement.docx"], "unknown suffix '.docx'; use one of .pdf, .html, .eml"),
        (["-o", "statement"], "unknown suffix '(none)'"),
    ],
)
def test_an_unknown_suffix_is_refused(
    cli: CliRunner, world: StatementWorld, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli.invoke(app, ["client-statement", CLIENT_NAME, *args])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / args[1]).exists()


def test_an_unknown_client_or_a_missing_contact_is_one_line_and_no_file(
    cli: CliRunner, runtime: Runtime, tmp_path: Path
) -> None:
    build(runtime, contact="")
    result = cli.invoke(app, ["client-statement", "Nobody Ltd", "-o", "x.html"])
    assert result.exit_code == 1
    assert "no client has client id or name 'Nobody Ltd'" in result.output
    result = cli.invoke(app, ["client-statement", CLIENT_NAME, "-o", "x.eml"])
    assert result.exit_code == 1
    assert "`contact_email` column of the clients import" in result.output
    assert not (tmp_path / "x.eml").exists()
    assert _audit(runtime) == []
