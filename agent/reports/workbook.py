"""What every accessrecon workbook shares: a title, an "as of" line, a frozen filtered header.

Cells holding text are always written as text: a name like ``=HYPERLINK(…)`` or
``+1 555`` stays a string and is never evaluated by Excel or LibreOffice (formula
injection). Dates are written as dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HEADER_ROW = 4
TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
DATE_FORMAT = "yyyy-mm-dd hh:mm"
_INVALID_SHEET_CHARS = set("[]:*?/\\")


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: int = 16


def safe_sheet_title(raw: str, taken: set[str]) -> str:
    """A sheet title Excel accepts (≤ 31 chars, no []:*?/\\), unique in the workbook."""
    cleaned = "".join("_" if c in _INVALID_SHEET_CHARS else c for c in raw).strip("' ") or "Sheet"
    title = cleaned[:31]
    n = 2
    while title.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        title = cleaned[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title)
    return title


def write_cell(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATE_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, int | float) and not isinstance(value, bool):
        cell.value = value
    elif value is None:
        cell.value = None
    else:
        cell.value = str(value)
        cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def write_table(
    sheet: Worksheet,
    *,
    title: str,
    subtitle: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
) -> int:
    """Title, subtitle, header and rows; header frozen and filtered. Returns the row count."""
    write_cell(sheet, 1, 1, title).font = TITLE_FONT
    write_cell(sheet, 2, 1, subtitle).font = Font(italic=True, color="555555")
    for i, column in enumerate(columns, start=1):
        cell = write_cell(sheet, HEADER_ROW, i, column.title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    count = 0
    for count, row in enumerate(rows, start=1):
        for i, value in enumerate(row, start=1):
            write_cell(sheet, HEADER_ROW + count, i, value)
    last_col = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_col}{HEADER_ROW + max(count, 1)}"
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    return count


def as_of_line(as_of: datetime, scope: str) -> str:
    return f"As of {as_of:%Y-%m-%d %H:%M} UTC · scope: {scope}"
