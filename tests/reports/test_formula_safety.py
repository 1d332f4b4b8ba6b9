"""Formula injection: names that look like formulas stay text in every report and format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import CellKind, Column, ReportFormat, ReportScope
from agent.reports.csvsafe import csv_cell, safe_csv_value
from agent.reports.evidence import write_evidence_report
from agent.reports.exceptions import write_exceptions_report
from agent.reports.leaver import write_leaver_report
from agent.reports.matrix import write_matrix_report
from agent.reports.table_sheet import Style
from agent.reports.workload import write_workload_report
from agent.reports.xlsx import XlsxReport
from tests.reports.conftest import AS_OF
from tests.reports.readback import all_text, assert_no_formulas, open_book, read_csv, text
from tests.reports.states import HOSTILE, LEAVER_EMAIL, XML_NAME, State

LEADING = (
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "=1+1",
    "+SUM(1,2)",
    XML_NAME,
    "<r>plain</r>",
    "_x000D_ literal",
)


def write_all(engine: Engine, directory: Path, fmt: ReportFormat) -> list[Path]:
    """Every report of the hostile practice, in one format."""
    ext = fmt.value
    paths = [
        directory / f"{name}.{ext}"
        for name in ("leaver", "matrix", "workload", "exceptions", "evidence")
    ]
    with Session(engine) as session:
        write_leaver_report(session, LEAVER_EMAIL, paths[0], fmt=fmt, as_of=AS_OF)
        write_matrix_report(session, paths[1], fmt=fmt, as_of=AS_OF)
        write_workload_report(session, paths[2], fmt=fmt, as_of=AS_OF)
        write_exceptions_report(session, paths[3], fmt=fmt, as_of=AS_OF)
        write_evidence_report(session, paths[4], fmt=fmt, as_of=AS_OF)
    return paths


def test_no_workbook_holds_a_formula_and_hostile_names_read_back_as_text(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    paths = write_all(engine, tmp_path, ReportFormat.XLSX)
    seen: set[str] = set()
    for path in paths:
        assert_no_formulas(path)
        seen |= all_text(path)
    assert set(HOSTILE) <= seen
    sheet_names = open_book(paths[0]).sheetnames
    assert "@SUM(A1)" in sheet_names


def test_every_csv_neutralises_formula_triggers(
    engine: Engine, state: State, tmp_path: Path
) -> None:
    cells: set[str] = set()
    for path in write_all(engine, tmp_path, ReportFormat.CSV):
        for row in read_csv(path):
            cells.update(row)
    triggers = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert triggers == []
    for hostile in HOSTILE:
        assert str(safe_csv_value(hostile)) in cells, hostile
    assert "'=cmd|' /C calc'!A0" in cells
    assert "Kōwhai Bakery" in cells  # Unicode intact, no mojibake


@pytest.mark.parametrize("value", LEADING)
def test_the_writer_keeps_any_leading_text_as_a_string(tmp_path: Path, value: str) -> None:
    out = tmp_path / "one.xlsx"
    with XlsxReport(out, title=value, as_of=datetime.now(UTC), scope=ReportScope.of(None)) as book:
        sheet = book.sheet(value[:20] or "x", title=value, columns=[Column("A"), Column("B")])
        sheet.append([value, value], [None, Style(fill="#FFC7CE", bold=True)])
        sheet.after([value])
    assert_no_formulas(out)
    ws = open_book(out).worksheets[0]
    for cell in (ws["A1"], ws["A5"], ws["B5"], ws["A6"]):
        assert cell.data_type == "s"
        assert text(cell.value) == value
    assert ws["B5"].font.b
    assert ws["B5"].fill.fgColor.rgb == "FFFFC7CE"


def test_csv_cells() -> None:
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("\rx") == "'\rx"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell(-2) == -2  # a number is a number, not text
    assert csv_cell(None) == ""
    assert csv_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05"


def test_a_failing_report_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "broken.xlsx"

    def rows():
        yield ["a"]
        raise RuntimeError("the database went away")

    def write() -> None:
        with XlsxReport(
            out, title="t", as_of=datetime.now(UTC), scope=ReportScope.of(None)
        ) as book:
            sheet = book.sheet("s", title="t", columns=[Column("A", 10, CellKind.TEXT)])
            for row in rows():
                sheet.append(row)

    with pytest.raises(RuntimeError, match="went away"):
        write()
    assert not out.exists()
