"""A small sheet built in memory with openpyxl, framed like the streamed reports.

The reports themselves stream through ``agent.reports.xlsx``; this is for callers
that build a small workbook in memory (a download assembled from rows already cut
to a scope). Cells holding text are always written as text: a name like
``=HYPERLINK(…)`` or ``+1 555`` stays a string and is never evaluated by Excel or
LibreOffice (formula injection). Dates are written as dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from agent.reports.common import Column, naive_utc
from agent.reports.xlsx import safe_sheet_title

__all__ = ["Column", "as_of_line", "safe_sheet_title", "write_cell", "write_table"]

HEADER_ROW = 4
TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def write_cell(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, datetime):
        cell.value = naive_utc(value)
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
