"""The review and diff commands, run as a person would, against a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from accessrecon.commands.review import diff_command, review_app
from agent.runtime import Runtime
from agent.services.findings import reconcile
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Finding, Staff
from tests.factories import DOMAIN, add_staff, ok_scan, org

# The wiring accessrecon/cli.py uses.
app = typer.Typer()
app.add_typer(review_app, name="review")
app.command("diff")(diff_command)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Runtime]:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    monkeypatch.setenv("ACCESSRECON_PRACTICE_DOMAINS", f'["{DOMAIN}"]')
    runtime = Runtime(Settings())
    with session_scope(runtime.engine) as session:
        add_staff(session, "Ben Brennan", "ben@harbourco.example", status="left")
        add_staff(session, "Anna Ashby", "anna@harbourco.example")
        ok_scan(
            session,
            org(session, "!abc12"),
            [("ben@harbourco.example", "STANDARD"), ("anna.ashby@gmail.example", "STANDARD")],
        )
        reconcile(session, configured_domains=[DOMAIN])
    yield runtime
    runtime.engine.dispose()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def finding_id(runtime: Runtime, identity: str) -> int:
    with Session(runtime.engine) as session:
        return session.exec(select(Finding.id).where(Finding.identity == identity)).one()


def test_list_then_review_a_finding(cli: Runtime) -> None:
    ben = finding_id(cli, "ben@harbourco.example")
    code, out = run("review", "list")
    assert code == 0
    assert "leaver_access" in out
    assert "candidate staff" in out
    assert "Anna Ashby" in out
    code, out = run(
        "review",
        "accept-risk",
        str(ben),
        "--reason",
        "audit",
        "--until",
        "2099-01-31",
        "--actor",
        "mia",
    )
    assert (code, out.strip()) == (0, f"finding {ben}: risk accepted until 31 Jan 2099")
    code, out = run("review", "list", "--state", "accepted_risk")
    assert "until 31 Jan 2099" in out
    code, out = run("review", "history", str(ben))
    assert "mia: open -> accepted_risk until 31 Jan 2099 audit" in out


def test_refusals_are_one_line_and_exit_1(cli: Runtime) -> None:
    ben = finding_id(cli, "ben@harbourco.example")
    code, out = run("review", "accept-risk", str(ben), "--reason", "x", "--until", "2001-01-01")
    assert code == 1
    assert out.strip().startswith("accessrecon: the expiry date 2001-01-01 must be in the future")
    code, out = run("review", "accept-risk", str(ben), "--reason", "x", "--until", "soon")
    assert code == 1
    assert "not a date" in out


def test_confirm_match_reconciles_at_once(cli: Runtime) -> None:
    match = finding_id(cli, "anna.ashby@gmail.example")
    code, out = run("review", "confirm-match", str(match), "--actor", "mia")
    assert code == 0, out
    assert "is now Anna Ashby's" in out
    with Session(cli.engine) as session:
        finding = session.get(Finding, match)
        anna = session.exec(select(Staff).where(Staff.name == "Anna Ashby")).one()
    assert (finding.finding_class, finding.staff_id) == ("invited_direct", anna.id)


def test_diff_names_unknown_crawls(cli: Runtime) -> None:
    code, out = run("diff", "41", "42")
    assert code == 1
    assert "no crawl 41" in out
