"""One export in this process; prints rows, seconds and this process's peak RSS as JSON.

    python -m bench.export.run WRITER SOURCE OUT [--db URL] [--rows N]

``python -m bench.export`` runs each writer in a fresh process so every peak is
its own. Writers:

* ``ours``: the product's exceptions report (``agent.reports.exceptions``): frame,
  colours, text always text, streamed through XlsxWriter's constant_memory mode;
* ``xlsxwriter``: the baseline, XlsxWriter constant_memory ``write_row`` of the same
  rows, nothing else (no frame, no styles, no formula guard);
* ``openpyxl``: openpyxl's write-only mode, the same rows with text forced to strings
  and the same two coloured columns: the other candidate for the reports' writer;
* ``matrix``: the product's access matrix from the same database (DB source only).

Sources: ``db`` reads the rows with the report's own streamed query; ``memory``
generates the same kind of rows without a database, to time the writers alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from agent.reports.common import ReportScope
from agent.reports.exceptions import (
    COLUMNS,
    ExceptionRow,
    exception_rows,
    write_exceptions_xlsx,
)
from agent.reports.labels import SEVERITY_STYLES, class_style


def synthetic(n: int) -> Iterator[ExceptionRow]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        yield ExceptionRow(
            "high",
            "invited_direct",
            f"Person {i} Hōhepa",
            f"p{i}@harbourco.example",
            f"Client {i % 1000} Kōwhai Holdings",
            "Anna Müller",
            "xero",
            f"Org {i} Riverside Engineering Ltd",
            f"!{i:05d}",
            "Adviser",
            "Manage users",
            "active",
            "client",
            base,
            base + timedelta(minutes=i),
            "open",
            f"staff member {i} was invited directly by the client {i}",
            i,
        )


def baseline_xlsxwriter(rows: Iterator[ExceptionRow], out: Path) -> int:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(out),
        {
            "constant_memory": True,
            "remove_timezone": True,
            "default_date_format": "yyyy-mm-dd hh:mm",
        },
    )
    sheet = book.add_worksheet("Exceptions")
    sheet.write_row(0, 0, [c.title for c in COLUMNS])
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.write_row(count, 0, row.cells())
    book.close()
    return count


def openpyxl_write_only(rows: Iterator[ExceptionRow], out: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Exceptions")
    sheet.append([c.title for c in COLUMNS])
    fills: dict[str, tuple[PatternFill, Font]] = {}

    def styled(value: str, key: str, style: object) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        if style is not None:
            if key not in fills:
                fills[key] = (
                    PatternFill("solid", fgColor=style.fill.lstrip("#")),  # type: ignore[attr-defined]
                    Font(color=style.color.lstrip("#"), bold=style.bold),
                )  # type: ignore[attr-defined]
            cell.fill, cell.font = fills[key]
        return cell

    count = 0
    for row in rows:
        count += 1
        out_row: list[object] = []
        for i, value in enumerate(row.cells()):
            if i == 0:
                out_row.append(styled(value, "s" + value, SEVERITY_STYLES.get(value)))  # type: ignore[arg-type]
            elif i == 1:
                out_row.append(styled(value, "c" + value, class_style(value)))  # type: ignore[arg-type]
            elif isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))
                cell.number_format = "yyyy-mm-dd hh:mm"
                out_row.append(cell)
            elif isinstance(value, str):
                out_row.append(styled(value, "", None))
            else:
                out_row.append(value)
        sheet.append(out_row)
    book.save(out)
    return count


def _vm_hwm_kb() -> int:
    """This address space's own peak RSS (``ru_maxrss`` may include a parent's)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("writer", choices=["ours", "xlsxwriter", "openpyxl", "matrix"])
    parser.add_argument("source", choices=["db", "memory"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--db", default="")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    scope = ReportScope.of(None)
    as_of = datetime.now(UTC)
    started = time.perf_counter()
    session: Session | None = None
    if args.source == "db":
        from agent.storage.db import make_engine

        session = Session(make_engine(args.db))
        rows: Iterator[ExceptionRow] = exception_rows(session, scope=scope)
    else:
        rows = synthetic(args.rows)
    if args.writer == "ours":
        count = write_exceptions_xlsx(rows, args.out, scope=scope, as_of=as_of)
    elif args.writer == "xlsxwriter":
        count = baseline_xlsxwriter(rows, args.out)
    elif args.writer == "openpyxl":
        count = openpyxl_write_only(rows, args.out)
    else:
        from agent.reports.matrix import access_matrix, write_matrix_xlsx

        assert session is not None, "the matrix reads the database"
        count = write_matrix_xlsx(
            access_matrix(session, scope=scope), args.out, scope=scope, as_of=as_of
        )
    seconds = time.perf_counter() - started
    if session is not None:
        session.close()
    print(
        json.dumps(
            {
                "writer": args.writer,
                "source": args.source,
                "rows": count,
                "seconds": seconds,
                "rows_per_s": count / seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "vm_hwm_mb": _vm_hwm_kb() / 1024,
                "bytes": args.out.stat().st_size,
            }
        )
    )


if __name__ == "__main__":
    main()
