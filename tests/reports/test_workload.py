"""The workload report: clients, budget and clients with findings, per manager."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportFormat
from agent.reports.workload import (
    CLIENT_MANAGER_COLUMNS,
    CSV_COLUMNS,
    JOB_MANAGER_COLUMNS,
    write_workload_report,
)
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv
from tests.reports.states import ANA, BEN, SUM_MANAGER, State

UNLINKED = "Orgs linked to no client (1 org)"
#: the orgs linked to no client have findings, and no client figures at all
UNLINKED_ROW = [UNLINKED, *[None] * 8, 2, 1, 0]
# manager, clients, budget, no budget, archived, archived with open findings, clients with
# open findings, … with critical, … with high, findings, critical, high
BY_CLIENT_MANAGER = [
    [SUM_MANAGER, 1, 800, 0, 0, 0, 1, 1, 0, 1, 1, 0],
    # Old Mill is archived: counted apart, never among the clients with findings
    [ANA, 2, 1200, 1, 1, 1, 2, 1, 2, 5, 1, 2],
    [BEN, 3, 6200.5, 0, 0, 0, 3, 0, 2, 4, 0, 2],
    UNLINKED_ROW,
]
TOTAL = ["Total", 6, 8200.5, 1, 1, 1, 6, 2, 4, 12, 3, 4]
BY_JOB_MANAGER = [
    ["Jo Job", 3, 1900, 1, 0, 0, 3, 1, 3, 6, 1, 3],
    ["Kim Job", 2, 3300.5, 0, 1, 1, 2, 1, 1, 3, 1, 1],
    ["No job manager", 1, 3000, 0, 0, 0, 1, 0, 0, 1, 0, 0],
    UNLINKED_ROW,
]


def test_both_tables_count_clients_budget_and_findings(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "workload.xlsx"
    with Session(engine) as session:
        result = write_workload_report(session, out, as_of=AS_OF)
    assert result.rows == 8
    book = open_book(out)
    assert book.sheetnames == ["By client manager", "By job manager"]
    ws = book["By client manager"]
    assert ws["A3"].value == "Scope: all clients and orgs linked to no client"
    assert framed(ws, CLIENT_MANAGER_COLUMNS, freeze="B5") == BY_CLIENT_MANAGER
    assert [c.value for c in ws[9]][: len(TOTAL)] == TOTAL
    assert ws["A9"].font.b
    assert ws["C5"].number_format == "#,##0.00_ "
    assert ws.auto_filter.ref == "A4:L8"  # the total is outside the filter
    jobs = book["By job manager"]
    assert framed(jobs, JOB_MANAGER_COLUMNS, freeze="B5") == BY_JOB_MANAGER
    assert [c.value for c in jobs[9]][: len(TOTAL)] == TOTAL


def test_clients_with_findings_never_outnumber_the_clients(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "workload.xlsx"
    with Session(engine) as session:
        write_workload_report(session, out, as_of=AS_OF)
    for ws in open_book(out).worksheets:
        for row in ws.iter_rows(min_row=5, values_only=True):
            if row[0] is None or row[1] is None:
                continue
            clients, archived, archived_found, found = row[1], row[4], row[5], row[6]
            assert found <= clients, row
            assert archived_found <= archived, row
            assert row[7] <= found, row
            assert row[8] <= found, row


def test_scope_keeps_other_managers_and_unlinked_orgs_out(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "ana.xlsx"
    with Session(engine) as session:
        write_workload_report(session, out, scope=state.clients_of(ANA), as_of=AS_OF)
    ws = open_book(out)["By client manager"]
    assert ws["A3"].value == "Scope: 3 clients"
    assert framed(ws, CLIENT_MANAGER_COLUMNS, freeze="B5") == [BY_CLIENT_MANAGER[1]]
    assert [c.value for c in ws[6]][: len(TOTAL)] == ["Total", *BY_CLIENT_MANAGER[1][1:]]


def test_csv_holds_both_tables_marked_by_grouping(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "workload.csv"
    with Session(engine) as session:
        assert write_workload_report(session, out, fmt=ReportFormat.CSV).rows == 8
    rows = read_csv(out)
    # The columns scripts have read keep their order; the new count comes last.
    assert rows[0] == [
        "Grouped by",
        "Manager",
        "Clients",
        "Total budget",
        "No budget set",
        "Archived clients",
        "Clients with open findings",
        "… with critical",
        "… with high",
        "Open findings",
        "Critical findings",
        "High findings",
        "Archived with open findings",
    ]
    assert rows[0][2:] == list(CSV_COLUMNS)
    assert [r[:3] for r in rows[1:]] == [
        ["client manager", "'@SUM(A1)", "1"],
        ["client manager", ANA, "2"],
        ["client manager", BEN, "3"],
        ["client manager", UNLINKED, ""],
        ["job manager", "Jo Job", "3"],
        ["job manager", "Kim Job", "2"],
        ["job manager", "No job manager", "1"],
        ["job manager", UNLINKED, ""],
    ]
    assert rows[3][3] == "6200.5"
    assert rows[2][2:] == ["2", "1200.0", "1", "1", "2", "1", "2", "5", "1", "2", "1"]
    assert rows[4][2:] == ["", "", "", "", "", "", "", "2", "1", "0", ""]
