"""The exceptions report (open findings that need action) and the evidence report (scans)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports import evidence, exceptions
from agent.reports.common import ReportFormat
from agent.services.review import acknowledge
from agent.storage.db import session_scope
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv
from tests.reports.states import ANA, BEN, FORMULA_NAME, XML_NAME, State, open_classes

SEVERITIES = ["critical"] * 3 + ["high"] * 4 + ["medium"] * 4 + ["low"]


def test_exceptions_are_every_open_problem_worst_first(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    problems = [c for c in open_classes(engine).values() if c not in ("managed", "client_user")]
    with session_scope(engine) as session:
        finding_id = exceptions.write_exceptions_report(
            session, tmp_path / "first.csv", fmt=ReportFormat.CSV
        ).rows
        assert finding_id == len(problems) == 12
        first = read_csv(tmp_path / "first.csv")[1]
        acknowledge(session, int(first[-1]), actor="test", reason="calling the client")
    out = tmp_path / "exceptions.xlsx"
    with Session(engine) as session:
        result = exceptions.write_exceptions_report(session, out, as_of=AS_OF)
    assert result.rows == 12
    ws = open_book(out)["Exceptions"]
    body = framed(ws, exceptions.COLUMNS, freeze="D5")
    assert [r[0] for r in body] == SEVERITIES
    assert sorted(r[1] for r in body) == sorted(problems)
    assert ws["A5"].fill.fgColor.rgb == "FFC00000"
    assert ws["B5"].fill.fgColor.rgb == "FFFFC7CE"
    by_class = {}
    for row in body:
        by_class.setdefault(row[1], []).append(row)
    assert {r[2] for r in by_class["leaver_access"]} == {FORMULA_NAME}
    assert [r[16] for r in body].count("acknowledged") == 1
    missing = by_class["missing_expected"][0]
    assert (missing[2], missing[4], missing[11], missing[12], missing[13]) == (
        BEN,
        "\tTab Cafe",
        "not in org",
        "practice",
        None,  # no reason: the practice can
    )
    pending = next(r for r in by_class["invited_direct"] if r[8] == "4620816365")
    assert (pending[2], pending[5], pending[9], pending[10], pending[11]) == (
        ANA,
        ANA,
        "Company admin",
        "Manage users",
        "pending",
    )
    unknown = by_class["unknown_practice_user"][0]
    assert unknown[2] == "\tTemp Contractor"
    assert unknown[12:14] == ["client", "agent's login not in this org"]
    assert isinstance(unknown[14], datetime)
    assert isinstance(unknown[15], datetime)
    assert isinstance(unknown[18], int)


def test_exceptions_cut_to_a_manager_and_as_csv(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "ben.csv"
    with Session(engine) as session:
        result = exceptions.write_exceptions_report(
            session, out, fmt=ReportFormat.CSV, scope=state.clients_of(BEN)
        )
    rows = read_csv(out)
    assert rows[0] == [c.title for c in exceptions.COLUMNS]
    assert result.rows == len(rows) - 1 == 4
    assert {r[4] for r in rows[1:]} == {"'\rCR Motors", XML_NAME, "Kōwhai Bakery"}


def test_evidence_shows_ok_failed_and_suspect_scans(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "evidence.xlsx"
    with Session(engine) as session:
        result = evidence.write_evidence_report(session, out, as_of=AS_OF)
    assert result.rows == 12
    ws = open_book(out)["Scans"]
    body = framed(ws, evidence.COLUMNS, freeze="B5")
    statuses = [r[7] for r in body]
    assert sorted(statuses) == ["failed"] + ["ok"] * 10 + ["suspect"]
    assert [r[0] for r in body] == sorted((r[0] for r in body), reverse=True)
    failed = body[statuses.index("failed")]
    assert (failed[3], failed[8], failed[9], failed[10], failed[11]) == (
        "Kōwhai Bakery Ltd",
        "timeout",
        None,
        None,
        None,
    )
    assert "did not load" in failed[12]
    suspect = body[statuses.index("suspect")]
    assert (suspect[5], suspect[9], suspect[10], suspect[11]) == ("-2 Dairy", 0, 0, "yes")
    assert "dropped from 2 users to 0" in suspect[12]
    ok = body[statuses.index("ok")]
    assert ok[9] == ok[10]
    assert ok[11] == "yes"
    assert ok[6] == "agent"
    fills = {
        ws.cell(row=i, column=8).value: ws.cell(row=i, column=8).fill.fgColor.rgb
        for i in range(5, 5 + len(body))
    }
    assert fills == {"ok": "FFC6EFCE", "failed": "FFFFC7CE", "suspect": "FFFFEB9C"}


def test_evidence_scope_and_since(engine: Engine, state: State, tmp_path: Path) -> None:
    with Session(engine) as session:
        ana = evidence.write_evidence_report(
            session, tmp_path / "ana.csv", fmt=ReportFormat.CSV, scope=state.clients_of(ANA)
        )
        later = evidence.write_evidence_report(
            session,
            tmp_path / "later.csv",
            fmt=ReportFormat.CSV,
            since=datetime.now(UTC) + timedelta(days=1),
        )
        today = evidence.write_evidence_report(
            session,
            tmp_path / "today.csv",
            fmt=ReportFormat.CSV,
            since=datetime.now(UTC) - timedelta(days=1),
        )
    assert ana.rows == 4
    assert {r[4] for r in read_csv(tmp_path / "ana.csv")[1:]} == {
        "!AAA01",
        "4620816365",
        "!CCC03",
        "!GGG07",
    }
    assert later.rows == 0
    assert len(read_csv(tmp_path / "later.csv")) == 1
    assert today.rows == 12
