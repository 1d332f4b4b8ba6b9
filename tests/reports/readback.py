"""Reading the reports back as a user's spreadsheet would, and checking their frame."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.escape import unescape
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from agent.reports.common import CellKind, Column

AS_OF = re.compile(r"^As of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")


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
        assert abs(widths.get(i, 0) - column.width) < 1, (column.title, widths.get(i))
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
                assert cell.number_format.startswith("yyyy-mm-dd"), cell.number_format
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
