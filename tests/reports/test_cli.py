"""``accessrecon report …`` as a user meets it: dated files, formats, scope, one-line errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from accessrecon.commands.reports import report_app
from agent.clock import utcnow
from agent.storage.models import AuditEvent
from tests.reports.readback import read_csv
from tests.reports.states import ANA, LEAVER_EMAIL, State


@pytest.fixture
def cli(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ACCESSRECON_DATABASE_URL", database_url)
    return CliRunner()


def test_a_report_goes_to_a_dated_file_and_says_how_many_rows(
    cli: CliRunner, state: State, tmp_path: Path, engine: Engine
) -> None:
    result = cli.invoke(report_app, ["matrix"])
    assert result.exit_code == 0, result.output
    path = tmp_path / f"access-matrix-{utcnow():%Y-%m-%d}.xlsx"
    assert result.output.strip() == f"{path}: 3 staff rows"
    assert load_workbook(path).sheetnames == ["Matrix", "Legend"]
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "export.report_matrix")
        ).one()
    assert event.detail["rows"] == 3
    assert event.detail["scope"] == "all"
    assert event.detail["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert event.actor.startswith("cli")


@pytest.mark.parametrize(
    ("command", "unit", "count"),
    [
        ("workload", "manager rows", 8),
        ("exceptions", "findings", 12),
        ("evidence", "scans", 12),
    ],
)
def test_csv_is_chosen_by_the_output_suffix(
    cli: CliRunner, state: State, tmp_path: Path, command: str, unit: str, count: int
) -> None:
    out = tmp_path / "out" / f"{command}.csv"
    result = cli.invoke(report_app, [command, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{out}: {count} {unit}"
    assert len(read_csv(out)) == count + 1


def test_a_manager_gets_only_their_clients(cli: CliRunner, state: State, tmp_path: Path) -> None:
    result = cli.invoke(report_app, ["leaver", LEAVER_EMAIL, "--manager", "  ana RUIZ"])
    assert result.exit_code == 0, result.output
    path = tmp_path / f"leaver-leaver-{utcnow():%Y-%m-%d}.xlsx"
    assert result.output.strip() == f"{path}: 1 orgs"
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", ANA]
    assert book[ANA]["A3"].value == f"Scope: clients managed by {ANA} (3 clients)"
    result = cli.invoke(report_app, ["exceptions", "--manager", ANA, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": 5 findings")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["workload", "--manager", "Nobody"], "accessrecon: no client has client manager 'Nobody'"),
        (["leaver", "Nobody Atall"], "accessrecon: no staff member matches 'Nobody Atall'"),
        (
            ["evidence", "--since", "last week"],
            "accessrecon: --since 'last week' is not a date (YYYY-MM-DD)",
        ),
    ],
)
def test_a_refused_report_is_one_line_and_exit_1(
    cli: CliRunner, state: State, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli.invoke(report_app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert list(tmp_path.glob("*.xlsx")) == []


def test_every_report_has_help(cli: CliRunner) -> None:
    for command in ("leaver", "matrix", "workload", "exceptions", "evidence"):
        result = cli.invoke(report_app, [command, "--help"])
        assert result.exit_code == 0
        assert "--format" in result.output
        assert "--manager" in result.output
