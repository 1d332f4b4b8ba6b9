"""Reports stream: memory does not grow with the rows written, and queries are lazy."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from agent.reports.common import ReportScope
from agent.reports.exceptions import ExceptionRow, exception_rows, write_exceptions_xlsx
from tests.reports.states import State


def _rows(n: int) -> Iterator[ExceptionRow]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        yield ExceptionRow(
            "high",
            "invited_direct",
            f"Person {i}",
            f"p{i}@harbourco.example",
            f"Client {i}",
            "Ana Ruiz",
            "xero",
            f"Org {i}",
            f"!{i:05d}",
            "Adviser",
            "Manage users",
            "active",
            "client",
            "agent lacks Manage users",
            base,
            base + timedelta(minutes=i),
            "open",
            f"invited directly {i}",
            i,
        )


def _peak(n: int, path: Path) -> int:
    tracemalloc.start()
    try:
        write_exceptions_xlsx(_rows(n), path, scope=ReportScope.of(None), as_of=datetime.now(UTC))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_five_times_the_rows_takes_no_more_memory(tmp_path: Path) -> None:
    small = _peak(300, tmp_path / "small.xlsx")
    large = _peak(1500, tmp_path / "large.xlsx")
    # Held rows would cost about 1 kB each: 1.2 MB more for the large run.
    assert large < small + 200_000, (small, large)
    ws = load_workbook(tmp_path / "large.xlsx", read_only=True)["Exceptions"]
    assert ws.max_row == 4 + 1500


def test_the_query_is_lazy(engine: Engine, state: State) -> None:
    with Session(engine) as session:
        rows = exception_rows(session, scope=ReportScope.of(None))
        assert isinstance(rows, Iterator)
        first = next(rows)
        assert first.severity == "critical"
        assert sum(1 for _ in rows) == 11
