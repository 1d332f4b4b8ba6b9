"""The exceptions report (open findings that need action), the evidence report (scans)
and the evidence pack's summary, in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports import evidence, exceptions
from agent.reports.common import ReportFormat
from agent.reports.evidence_summary import summary_html, write_summary_xlsx
from agent.reports.words import label
from agent.services.evidence.period import Period
from agent.services.evidence.summary import NEVER_READ, CoverageRow, EvidenceSummary, OpenException
from agent.services.review import acknowledge
from agent.storage.db import session_scope
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv
from tests.reports.states import ANA, BEN, FORMULA_NAME, XML_NAME, State, open_classes

SEVERITIES = ["Critical"] * 3 + ["High"] * 4 + ["Medium"] * 4 + ["Low"]


def test_exceptions_are_every_open_problem_worst_first(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    problems = [c for c in open_classes(engine).values() if c not in ("managed", "client_user")]
    with session_scope(engine) as session:
        finding_id = exceptions.write_exceptions_report(
            session, tmp_path / "first.csv", fmt=ReportFormat.CSV
        ).rows
        assert finding_id == len(problems) == 12
        header, first, *_ = read_csv(tmp_path / "first.csv")
        first_id = int(first[header.index("Finding id")])
        acknowledge(session, first_id, actor="test", reason="calling the client")
    out = tmp_path / "exceptions.xlsx"
    with Session(engine) as session:
        result = exceptions.write_exceptions_report(session, out, as_of=AS_OF)
    assert result.rows == 12
    ws = open_book(out)["Exceptions"]
    body = framed(ws, exceptions.COLUMNS, freeze="D5")
    assert [r[0] for r in body] == SEVERITIES
    assert sorted(r[1] for r in body) == sorted(label(c) for c in problems)
    assert ws["A5"].fill.fgColor.rgb == "FFC00000"
    assert ws["B5"].fill.fgColor.rgb == "FFFFC7CE"
    by_class = {}
    for row in body:
        by_class.setdefault(row[1], []).append(row)
    assert {r[2] for r in by_class["Leaver access"]} == {FORMULA_NAME}
    assert [r[16] for r in body].count("Acknowledged") == 1
    assert [r[16] for r in body].count("Open") == 11
    missing = by_class["Missing expected"][0]
    assert (missing[2], missing[4], missing[11], missing[12], missing[13]) == (
        BEN,
        "\tTab Cafe",
        "Not in org",
        "Practice",
        None,  # no reason: the practice can
    )
    pending = next(r for r in by_class["Invited direct"] if r[8] == "4620816365")
    assert (pending[2], pending[5], pending[6], pending[9], pending[10], pending[11]) == (
        ANA,
        ANA,
        "QuickBooks Online",
        "Company admin",
        "Manage users",
        "Invite pending",
    )
    assert {r[6] for r in body} == {"Xero", "QuickBooks Online", "MYOB"}
    unknown = by_class["Unknown practice user"][0]
    assert unknown[2] == "\tTemp Contractor"
    assert unknown[12:14] == ["Client", "accessrecon's login is not a user of this org"]
    leaver = next(r for r in by_class["Leaver access"] if r[8] == "!AAA01")
    assert "left on 3 Mar 2026" in leaver[17]  # dates in details spelt out
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
    titles = [c.title for c in exceptions.COLUMNS]
    assert rows[0] == [*titles, *(f"{t} label" for t in exceptions.CODED)]
    assert result.rows == len(rows) - 1 == 4
    assert {r[4] for r in rows[1:]} == {"'\rCR Motors", XML_NAME, "Kōwhai Bakery"}
    # The codes stay where they were; their words follow the existing columns.
    assert {(r[0], r[1]) for r in rows[1:]} == {
        ("high", "invited_direct"),
        ("medium", "probable_match"),
        ("medium", "role_drift"),
    }
    assert {tuple(r[len(titles) :]) for r in rows[1:]} == {
        ("High", "Invited direct", "Xero", "Active", "Client", "Open"),
        ("High", "Invited direct", "MYOB", "Active", "Client", "Open"),
        ("Medium", "Probable match", "Xero", "Active", "Client", "Open"),
        ("Medium", "Role drift", "Xero", "Active", "Client", "Open"),
    }


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
    assert sorted(statuses) == ["Failed"] + ["OK"] * 10 + ["Suspect"]
    assert [r[0] for r in body] == sorted((r[0] for r in body), reverse=True)
    failed = body[statuses.index("Failed")]
    assert (failed[3], failed[8], failed[9], failed[10], failed[11]) == (
        "Kōwhai Bakery Ltd",
        "Timeout",
        None,
        None,
        None,
    )
    assert failed[12] == "the users page did not load"  # nothing was read: no count
    suspect = body[statuses.index("Suspect")]
    assert (suspect[5], suspect[9], suspect[10], suspect[11]) == ("-2 Dairy", 0, 0, "yes")
    assert "dropped from 2 users to 0" in suspect[12]
    assert suspect[12].endswith("the portal said 0 users; 0 read")
    assert {r[6] for r in body} == {"Agent"}
    ok = body[statuses.index("OK")]
    assert ok[9] == ok[10]
    assert ok[11] == "yes"
    assert ok[6] == "Agent"
    assert ok[12] == f"the portal said {ok[10]} users; {ok[9]} read"
    assert not [r for r in body if "JSON total" in r[12]]
    assert {r[2] for r in body} == {"Xero", "QuickBooks Online", "MYOB"}
    fills = {
        ws.cell(row=i, column=8).value: ws.cell(row=i, column=8).fill.fgColor.rgb
        for i in range(5, 5 + len(body))
    }
    assert fills == {"OK": "FFC6EFCE", "Failed": "FFFFC7CE", "Suspect": "FFFFEB9C"}


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
    header = read_csv(tmp_path / "ana.csv")[0]
    titles = [c.title for c in evidence.COLUMNS]
    assert header == [*titles, "Portal label", "Source label", "Status label", "Reason label"]
    assert {r[4] for r in read_csv(tmp_path / "ana.csv")[1:]} == {
        "!AAA01",
        "4620816365",
        "!CCC03",
        "!GGG07",
    }
    assert later.rows == 0
    assert len(read_csv(tmp_path / "later.csv")) == 1
    assert today.rows == 12


def test_the_evidence_summary_says_codes_in_words(tmp_path: Path) -> None:
    summary = EvidenceSummary(
        period=Period(date(2026, 11, 1), date(2026, 11, 30)),
        generated_at=AS_OF,
        records={"scan": 3, "finding_review": 1},
        coverage=(
            CoverageRow(
                "qbo", "4620816365", "Plus One QBO", "+1 Bakery", NEVER_READ, None, 0, 2, "timeout"
            ),
        ),
        exceptions=(
            OpenException(
                "Ana Ruiz",
                "ana@x.example",
                "invited_direct",
                "myob",
                "0b6f",
                "CR",
                "CR Motors",
                "Mia",
                AS_OF,
                "year-end work",
                date(2027, 3, 5),
            ),
        ),
        coverage_counts={NEVER_READ: 1},
    )
    out = tmp_path / "summary.xlsx"
    write_summary_xlsx(summary, out)
    book = open_book(out)
    assert book["Overview"]["A1"].value == "Evidence: 1 Nov 2026 to 30 Nov 2026"
    overview = [r[0] for r in book["Overview"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert overview[:2] == ["Scan records", "Finding review records"]
    coverage = next(book["Coverage"].iter_rows(min_row=5, values_only=True))
    assert (coverage[0], coverage[4], coverage[8]) == ("QuickBooks Online", NEVER_READ, "Timeout")
    accepted = next(book["Exceptions"].iter_rows(min_row=5, values_only=True))
    assert accepted[2:4] == ("Invited direct", "MYOB")
    page = summary_html(summary)
    for words in (
        "1 Nov 2026 to 30 Nov 2026",
        "QuickBooks Online",
        "Timeout",
        "Invited direct",
        "MYOB · 0b6f",
        "5 Mar 2027",
        "4 records in the pack",
        "Finding review",
    ):
        assert words in page, words
    for code in ("qbo", "timeout", "invited_direct", "myob", "finding_review", "2026-11-01"):
        assert code not in page, code
