"""One count of what is open: the workload's total row, the exceptions report and
``open_totals`` (what the overview shows) agree for the same scope, scoped or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportFormat, ReportScope
from agent.reports.exceptions import write_exceptions_report
from agent.reports.totals import OpenTotals, open_totals
from agent.reports.workload import CLIENT_MANAGER_COLUMNS, write_workload_report
from agent.storage.db import session_scope
from agent.storage.models import Client
from tests.reports.conftest import AS_OF
from tests.reports.readback import open_book, read_csv
from tests.reports.states import ANA, BEN, State

#: what the report tests' practice holds, counted by hand from tests/reports/states.py:
#: (clients, with findings, archived, archived with findings, unlinked orgs, unlinked with
#: findings, findings, critical, high)
EXPECTED = {
    None: (6, 6, 1, 1, 1, 1, 12, 3, 4),
    ANA: (2, 2, 1, 1, 0, 0, 5, 1, 2),
    BEN: (3, 3, 0, 0, 0, 0, 4, 0, 2),
}
TITLES = [c.title for c in CLIENT_MANAGER_COLUMNS]


def _figures(totals: OpenTotals) -> tuple[int, ...]:
    return (
        totals.clients,
        totals.clients_with_findings,
        totals.archived_clients,
        totals.archived_with_findings,
        totals.unlinked_orgs,
        totals.unlinked_orgs_with_findings,
        totals.findings.total,
        totals.findings.critical,
        totals.findings.high,
    )


def _written_totals(
    engine: Engine, tmp_path: Path, client_ids: set[int] | None
) -> tuple[dict[str, dict[str, object]], list[dict[str, str]]]:
    """The workload workbook's total rows (by sheet) and the exceptions CSV's rows."""
    with Session(engine) as session:
        write_workload_report(session, tmp_path / "w.xlsx", scope=client_ids, as_of=AS_OF)
        write_exceptions_report(
            session, tmp_path / "e.csv", fmt=ReportFormat.CSV, scope=client_ids, as_of=AS_OF
        )
    totals = {}
    for ws in open_book(tmp_path / "w.xlsx").worksheets:
        [row] = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0] == "Total"]
        totals[ws.title] = dict(zip(TITLES[1:], row[1 : len(TITLES)], strict=True))
    header, *rows = read_csv(tmp_path / "e.csv")
    return totals, [dict(zip(header, r, strict=True)) for r in rows]


def _assert_agree(totals: OpenTotals, workbook: dict[str, dict[str, object]], rows: list) -> None:
    listed = [r["Severity"] for r in rows]
    assert totals.findings.total == len(rows)
    assert totals.findings.critical == listed.count("critical")
    assert totals.findings.high == listed.count("high")
    assert set(workbook) == {"By client manager", "By job manager"}
    for total in workbook.values():
        assert total["Open findings"] == totals.findings.total
        assert total["Critical findings"] == totals.findings.critical
        assert total["High findings"] == totals.findings.high
        assert total["Clients"] == totals.clients
        assert total["Clients with open findings"] == totals.clients_with_findings
        assert total["Archived clients"] == totals.archived_clients
        assert total["Archived with open findings"] == totals.archived_with_findings


@pytest.mark.parametrize("who", [None, ANA, BEN], ids=["everything", "ana", "ben"])
def test_workload_exceptions_and_totals_agree(
    engine: Engine, state: State, tmp_path: Path, who: str | None
) -> None:
    client_ids = None if who is None else state.clients_of(who)
    with Session(engine) as session:
        totals = open_totals(session, scope=ReportScope.of(client_ids))
    assert _figures(totals) == EXPECTED[who]
    workbook, rows = _written_totals(engine, tmp_path, client_ids)
    _assert_agree(totals, workbook, rows)


def test_archiving_a_client_moves_it_in_every_count_alike(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        bakery = session.get(Client, state.client_ids["+1 Bakery"])
        assert bakery is not None
        bakery.archived = True
    with Session(engine) as session:
        totals = open_totals(session, scope=ReportScope.of(None))
    # One client (with findings) fewer worked for, one more archived; the findings stay.
    assert _figures(totals) == (5, 5, 2, 2, 1, 1, 12, 3, 4)
    workbook, rows = _written_totals(engine, tmp_path, None)
    _assert_agree(totals, workbook, rows)
    with Session(engine) as session:
        ana = open_totals(session, scope=ReportScope.of(state.clients_of(ANA)))
    assert _figures(ana) == (1, 1, 2, 2, 0, 0, 5, 1, 2)
    assert ana.clients_with_findings <= ana.clients
