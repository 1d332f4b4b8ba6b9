"""The workload report: clients, budget and clients with findings, per manager."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportFormat
from agent.reports.workload import (
    CLIENT_MANAGER_COLUMNS,
    JOB_MANAGER_COLUMNS,
    write_workload_report,
)
from tests.reports.conftest import AS_OF
from tests.reports.readback import framed, open_book, read_csv
from tests.reports.states import ANA, BEN, SUM_MANAGER, State

# manager, clients, budget, no budget, archived, clients with findings, … critical, … high,
# findings, critical, high
BY_CLIENT_MANAGER = [
    [SUM_MANAGER, 1, 800, 0, 0, 1, 1, 0, 1, 1, 0],
    [ANA, 2, 1200, 1, 1, 3, 1, 2, 5, 1, 2],
    [BEN, 3, 6200.5, 0, 0, 3, 0, 2, 4, 0, 2],
]
TOTAL = ["Total", 6, 8200.5, 1, 1, 7, 2, 4, 10, 2, 4]
BY_JOB_MANAGER = [
    ["Jo Job", 3, 1900, 1, 0, 3, 1, 3, 6, 1, 3],
    ["Kim Job", 2, 3300.5, 0, 1, 3, 1, 1, 3, 1, 1],
    ["(none)", 1, 3000, 0, 0, 1, 0, 0, 1, 0, 0],
]


def test_both_tables_count_clients_budget_and_findings(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "workload.xlsx"
    with Session(engine) as session:
        result = write_workload_report(session, out, as_of=AS_OF)
    assert result.rows == 6
    book = open_book(out)
    assert book.sheetnames == ["By client manager", "By job manager"]
    ws = book["By client manager"]
    assert framed(ws, CLIENT_MANAGER_COLUMNS, freeze="B5") == BY_CLIENT_MANAGER
    assert [c.value for c in ws[8]] == TOTAL
    assert ws["A8"].font.b
    assert ws["C5"].number_format == "#,##0.00"
    assert ws.auto_filter.ref == "A4:K7"  # the total is outside the filter
    assert framed(book["By job manager"], JOB_MANAGER_COLUMNS, freeze="B5") == BY_JOB_MANAGER


def test_scope_keeps_other_managers_out(engine: Engine, state: State, tmp_path: Path) -> None:
    out = tmp_path / "ana.xlsx"
    with Session(engine) as session:
        write_workload_report(session, out, scope=state.clients_of(ANA), as_of=AS_OF)
    ws = open_book(out)["By client manager"]
    assert framed(ws, CLIENT_MANAGER_COLUMNS, freeze="B5") == [BY_CLIENT_MANAGER[1]]
    assert [c.value for c in ws[6]] == ["Total", *BY_CLIENT_MANAGER[1][1:]]


def test_csv_holds_both_tables_marked_by_grouping(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    out = tmp_path / "workload.csv"
    with Session(engine) as session:
        assert write_workload_report(session, out, fmt=ReportFormat.CSV).rows == 6
    rows = read_csv(out)
    assert rows[0][:3] == ["Grouped by", "Manager", "Clients"]
    assert [r[:3] for r in rows[1:]] == [
        ["client manager", "'@SUM(A1)", "1"],
        ["client manager", ANA, "2"],
        ["client manager", BEN, "3"],
        ["job manager", "Jo Job", "3"],
        ["job manager", "Kim Job", "2"],
        ["job manager", "(none)", "1"],
    ]
    assert rows[3][3] == "6200.5"
