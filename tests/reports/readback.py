"""Reading the reports back as a user's spreadsheet would, and checking their frame.

``misfits`` is the one check of the width rule, written without the writer's own
measure: a value fits its column when its longest line has no more characters than
the column is wide, and a value that does not must wrap, on a row tall enough for
its lines, and without a word broken where a word fits.
"""

from __future__ import annotations

import csv
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.escape import unescape
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from agent.reports.column_widths import PADDING, WORD_MAX
from agent.reports.common import CellKind, Column

AS_OF = re.compile(r"^As of \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC$")
HEADER_FILL = "FF305496"
#: a row's height per line of text, in points
LINE = 15.0
_PIECE = re.compile(r"\S+?-|\S+")


def text(value: object) -> object:
    """A cell's value as Excel shows it: openpyxl leaves ``_x000D_`` escapes of inline
    strings in place (Excel and LibreOffice turn them back into the character)."""
    return unescape(value) if isinstance(value, str) else value


def open_book(path: Path) -> Workbook:
    return load_workbook(path)


def framed(
    ws: Worksheet, columns: Sequence[Column], *, header_row: int = 4, freeze: str | None = None
) -> list[list[object]]:
    """Assert the frame every sheet has; return the table's body rows (values)."""
    assert isinstance(ws["A1"].value, str)
    assert ws["A1"].value
    assert ws["A1"].font.b
    assert AS_OF.match(ws["A2"].value), ws["A2"].value
    assert str(ws["A3"].value).startswith("Scope: ")
    header = [text(c.value) for c in ws[header_row]][: len(columns)]
    assert header == [c.title for c in columns]
    assert ws[f"A{header_row}"].fill.fgColor.rgb == "FF305496"
    assert ws.freeze_panes == (freeze or f"A{header_row + 1}")
    last = get_column_letter(len(columns))
    ref = ws.auto_filter.ref
    assert ref is not None
    assert ref.startswith(f"A{header_row}:{last}"), ref
    filter_end = int(ref.split(":")[1].removeprefix(last))
    widths = column_widths(ws)
    for i, column in enumerate(columns, start=1):
        # As wide as its values, up to its limit (a long word: up to WORD_MAX).
        widest = max(column.width, WORD_MAX) + PADDING + 1
        assert 0 < widths.get(i, 0) <= widest, (column.title, widths.get(i))
    problems = misfits(ws)
    assert problems == [], problems
    body = [
        [text(c.value) for c in row][: len(columns)]
        for row in ws.iter_rows(min_row=header_row + 1, max_row=filter_end)
    ]
    body = [row for row in body if any(v not in (None, "") for v in row)]
    for row in ws.iter_rows(min_row=header_row + 1, max_row=filter_end):
        for column, cell in zip(columns, row, strict=False):
            if cell.value is None:
                continue
            if column.kind in (CellKind.DATETIME, CellKind.DATE):
                assert isinstance(cell.value, datetime)
                assert cell.is_date
                assert cell.number_format.startswith("d mmm yyyy"), cell.number_format
            elif column.kind is CellKind.TEXT:
                assert cell.data_type == "s", (cell.coordinate, cell.value, cell.data_type)
    return body


def column_widths(ws: Worksheet) -> dict[int, float]:
    """Set widths by column number (a ``<col>`` element may span several columns)."""
    widths: dict[int, float] = {}
    for dimension in ws.column_dimensions.values():
        if dimension.customWidth and dimension.min is not None and dimension.max is not None:
            for i in range(dimension.min, dimension.max + 1):
                widths[i] = dimension.width
    return widths


def all_text(path: Path) -> set[str]:
    """Every text value of every sheet of a workbook."""
    book = load_workbook(path)
    return {
        text(c.value)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }


def sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        }


def assert_no_formulas(path: Path) -> None:
    """No sheet of the workbook holds a formula element, whatever its text said."""
    xml = sheet_xml(path)
    assert xml
    for name, content in xml.items():
        assert not re.search(r"<f[\s>/]", content), f"a formula in {name}"
    book = load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def header_row(ws: Worksheet) -> int:
    """The table's header row: the first row whose first cell has the header's fill."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].fill.fgColor.rgb == HEADER_FILL:
            return int(row[0].row)
    raise AssertionError(f"no header row on the sheet {ws.title!r}")


def shown(cell: Cell) -> str:
    """A cell's value as the sheet shows it, for counting its characters."""
    value = text(cell.value)
    room = " " if cell.number_format.endswith("_ ") else ""  # the format's trailing space
    if isinstance(value, datetime):
        return ("30 Sep 2026 23:59" if "h" in cell.number_format else "30 Sep 2026") + room
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (f"{value:,.2f}" if "0.00" in cell.number_format else f"{value:,}") + room
    return str(value)


def _spans(ws: Worksheet) -> Iterator[tuple[Cell, float]]:
    """Every cell from the header down with the width it is shown in (merged: the span)."""
    widths = column_widths(ws)
    merged = {
        (r.min_row, r.min_col): sum(widths.get(c, 8.43) for c in range(r.min_col, r.max_col + 1))
        for r in ws.merged_cells.ranges
    }
    inside = {
        (row, col)
        for r in ws.merged_cells.ranges
        for row in range(r.min_row, r.max_row + 1)
        for col in range(r.min_col, r.max_col + 1)
    }
    for row in ws.iter_rows(min_row=header_row(ws)):
        for cell in row:
            if cell.value is None or cell.value == "":
                continue
            key = (cell.row, cell.column)
            if key in merged:
                yield cell, merged[key]
            elif key not in inside:
                yield cell, widths.get(int(cell.column), 8.43)


def misfits(ws: Worksheet) -> list[str]:
    """Every cell from the header down whose value neither fits its column nor wraps well.

    A value fits when its longest line has no more characters than its column is
    wide. One that does not must wrap; its row must be tall enough for the lines it
    needs at least (its characters over the width); and a word that would fit the
    column whole must not be wider than it (so e-mails and org ids are never broken).
    """
    problems: list[str] = []
    heights = {i: d.height for i, d in ws.row_dimensions.items() if d.height}
    header = header_row(ws)
    for cell, width in _spans(ws):
        if cell.alignment.textRotation:
            continue  # upright text runs along the row's height, not the column's width
        value = shown(cell)
        where = f"{ws.title}!{cell.coordinate} {value!r} in width {width:.1f}"
        lines = value.split("\n")
        if max(len(line) for line in lines) <= width and len(lines) == 1:
            continue
        if not cell.alignment.wrap_text:
            problems.append(f"{where}: neither fits nor wraps")
            continue
        words = [p for line in lines for w in line.split() for p in _PIECE.findall(w)]
        broken = [w for w in words if width < len(w) <= WORD_MAX]
        if broken:
            problems.append(f"{where}: breaks the word {broken[0]!r}")
        if cell.row != header:  # the header's height is checked by its own test
            needed = sum(max(1, math.ceil(len(line) / width)) for line in lines)
            height = heights.get(cell.row, LINE)
            if height < LINE * needed - 1:
                problems.append(f"{where}: row {cell.row} is {height}pt for {needed} lines")
    return problems
