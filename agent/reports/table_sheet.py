"""One framed table on one sheet: the frame every report sheet shares, and its cells.

Every sheet a report writes has the same frame: a title, an "As of … UTC" line,
the scope the report was cut for, then a header row that is frozen and filtered,
with set column widths, printed landscape with the header repeated on each page.
Rows follow it top to bottom (the workbook is written in ``constant_memory`` mode,
``agent.reports.xlsx``), each value written by its type.

Formula injection: every text value goes through ``write_string``, never
``write``, so ``=HYPERLINK(…)`` or ``+1 555`` is stored as a string cell and
evaluated by nobody. One more trap is closed here: in ``constant_memory`` mode
XlsxWriter copies a string that starts with ``<r>`` and ends with ``</r>`` into the
sheet XML unescaped (it takes it for a rich string it built itself), so such text
could inject any XML, ``<f>`` formulas included. Those strings are written as a
genuine rich string of plain fragments, which XlsxWriter escapes; they read back
as the same text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from agent.reports.common import CellKind, Column, ReportScope, as_of_text, naive_utc

HEADER_ROW = 3  # zero-based: the fourth row, under title, as-of and scope
HEADER_FILL = "#305496"
MAX_ROWS = 1_048_576
#: Column width units (characters) that still print legibly on one A4 landscape page,
#: and what each further page takes.
PAGE_WIDTH_MAX = 240
PAGE_WIDTH = 200


@dataclass(frozen=True, slots=True)
class Style:
    """A cell's look beyond its column's number format."""

    fill: str | None = None
    color: str | None = None
    bold: bool = False
    center: bool = False
    italic: bool = False


BOLD = Style(bold=True)
NOTE = Style(italic=True, color="#595959")


def _method(worksheet: Worksheet, name: str) -> Callable[..., Any]:
    """The worksheet's undecorated ``_write_*`` method where it has one, else the public one.

    The public methods first parse A1-style arguments, which costs about a tenth of a
    100k-row export; row and column here are always numbers.
    """
    return getattr(worksheet, f"_{name}", None) or getattr(worksheet, name)


class SheetFormats(Protocol):
    """What a sheet needs of its workbook (``agent.reports.xlsx.XlsxReport``).

    Named here as a protocol so that the sheet does not import the workbook that
    creates it.
    """

    as_of: datetime
    scope: ReportScope

    def format(self, kind: CellKind, style: Style | None = None) -> Format | None: ...

    def raw_format(self, props: dict[str, Any]) -> Format: ...


class TableSheet:
    """One framed table on one sheet, written row by row from the top."""

    def __init__(
        self,
        report: SheetFormats,
        worksheet: Worksheet,
        *,
        title: str,
        columns: Sequence[Column],
        group: Sequence[str | None] | None,
        freeze_columns: int,
        rotate_from: int | None,
    ) -> None:
        self.report = report
        self.worksheet = worksheet
        self._write_string = _method(worksheet, "write_string")
        self._write_number = _method(worksheet, "write_number")
        self._write_datetime = _method(worksheet, "write_datetime")
        self._write_blank = _method(worksheet, "write_blank")
        self._datetime_format = report.format(CellKind.DATETIME)
        self._date_format = report.format(CellKind.DATE)
        self.columns = tuple(columns)
        self.rows = 0
        self._finished = False
        self._plain = [report.format(c.kind) for c in self.columns]
        self.header_row = HEADER_ROW + (1 if group is not None else 0)
        self._next_row = self.header_row + 1
        ws = worksheet
        title_format = report.raw_format({"bold": True, "font_size": 14})
        note_format = report.format(CellKind.TEXT, NOTE)
        self._text(0, 0, title, title_format)
        self._text(1, 0, as_of_text(report.as_of), note_format)
        self._text(2, 0, report.scope.line, note_format)
        for i, column in enumerate(self.columns):
            ws.set_column(i, i, column.width)
        if group is not None:
            group_format = report.raw_format(
                {
                    "bold": True,
                    "bg_color": "#D9E1F2",
                    "pattern": 1,
                    "font_size": 9,
                    "text_wrap": True,
                    "valign": "bottom",
                }
            )
            ws.set_row(HEADER_ROW, 30)
            self._group_row(group, group_format)
        header = {
            "bold": True,
            "font_color": "#FFFFFF",
            "bg_color": HEADER_FILL,
            "pattern": 1,
            "valign": "vcenter",
            "text_wrap": True,
            "border": 1,
            "border_color": "#FFFFFF",
        }
        header_format = report.raw_format(header)
        rotated_format = report.raw_format(
            {**header, "rotation": 90, "valign": "bottom", "align": "center"}
        )
        # Row heights are not measured in constant_memory mode: size the header here.
        flat = self.columns[:rotate_from] if rotate_from is not None else self.columns
        lines = max((math.ceil(len(c.title) / max(c.width - 1, 1)) for c in flat), default=1)
        height = 15.0 * lines + 2
        if rotate_from is not None and rotate_from < len(self.columns):
            longest = max(len(c.title) for c in self.columns[rotate_from:])
            height = max(height, min(150.0, 6.5 * longest + 6))
        ws.set_row(self.header_row, height)
        for i, column in enumerate(self.columns):
            rotated = rotate_from is not None and i >= rotate_from
            self._text(
                self.header_row, i, column.title, rotated_format if rotated else header_format
            )
        ws.freeze_panes(self.header_row + 1, freeze_columns)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.repeat_rows(self.header_row)
        ws.set_footer("&CPage &P of &N")
        # Printed (and converted to PDF) a page wide where that stays legible; wider
        # sheets spread over several pages, each repeating the frozen columns.
        width = sum(c.width for c in self.columns)
        pages = 1 if width <= PAGE_WIDTH_MAX else math.ceil(width / PAGE_WIDTH)
        ws.fit_to_pages(pages, 0)
        if pages > 1 and freeze_columns:
            ws.repeat_columns(0, freeze_columns - 1)

    @property
    def name(self) -> str:
        return str(self.worksheet.get_name())

    def append(
        self, values: Sequence[object], styles: Sequence[Style | None] | None = None
    ) -> None:
        """Write the next row of the table; ``styles`` (per cell) may colour cells."""
        row = self._next_row
        if row >= MAX_ROWS:
            raise ValueError(f"the sheet {self.name!r} is full ({MAX_ROWS} rows)")
        put, plain = self._put, self._plain
        if styles is None:
            for i, value in enumerate(values):
                put(row, i, value, plain[i])
        else:
            format_of, columns = self.report.format, self.columns
            for i, value in enumerate(values):
                style = styles[i]
                put(row, i, value, plain[i] if style is None else format_of(columns[i].kind, style))
        self._next_row += 1
        self.rows += 1

    def append_sparse(self, cells: Iterable[tuple[int, object, Style | None]]) -> None:
        """Write the next row from ``(column, value, style)`` triples in column order.

        A matrix row is mostly empty: writing only its filled cells keeps a
        staff × clients sheet as fast as the cells it holds, not the columns it has.
        """
        row = self._next_row
        if row >= MAX_ROWS:
            raise ValueError(f"the sheet {self.name!r} is full ({MAX_ROWS} rows)")
        report, columns, plain = self.report, self.columns, self._plain
        for column, value, style in cells:
            fmt = plain[column] if style is None else report.format(columns[column].kind, style)
            self._put(row, column, value, fmt)
        self._next_row += 1
        self.rows += 1

    def link(self, column: int, target: str, text: str) -> None:
        """Make the cell just written in ``column`` a hyperlink inside the workbook."""
        self.worksheet.write_url(self._next_row - 1, column, target, string=text)

    def after(self, values: Sequence[object], style: Style = BOLD) -> None:
        """A row below the table, outside its filter range (a total, or a note)."""
        self.finish()
        row = self._next_row
        for i, value in enumerate(values):
            kind = self.columns[i].kind if i < len(self.columns) else CellKind.TEXT
            self._put(row, i, value, self.report.format(kind, style))
        self._next_row += 1

    def finish(self) -> int:
        """Set the filter over header and rows; returns the row count. Idempotent."""
        if not self._finished:
            last = self.header_row + max(self.rows, 1)
            self.worksheet.autofilter(self.header_row, 0, last, len(self.columns) - 1)
            self._finished = True
        return self.rows

    def _group_row(self, group: Sequence[str | None], fmt: Format) -> None:
        """Labels over the header; a run of equal labels becomes one merged cell."""
        i = 0
        while i < len(group):
            label, end = group[i], i
            while end + 1 < len(group) and group[end + 1] == label:
                end += 1
            if label is not None:
                if end > i:
                    self.worksheet.merge_range(HEADER_ROW, i, HEADER_ROW, end, "", fmt)
                self._text(HEADER_ROW, i, label, fmt)
            i = end + 1

    def _put(self, row: int, column: int, value: object, fmt: Format | None) -> None:
        """Write one value by its type: text as a string, times as dates, numbers as numbers.

        The per-cell hot path of a 100k-row sheet: exact type checks first, then the
        general ones (a ``StrEnum`` member is text too).
        """
        kind = type(value)
        if kind is str:
            self._text(row, column, value, fmt)  # type: ignore[arg-type]
        elif kind is datetime:
            self._write_datetime(
                row,
                column,
                naive_utc(value),  # type: ignore[arg-type]
                fmt or self._datetime_format,
            )
        elif kind is int or kind is float:
            self._write_number(row, column, value, fmt)
        elif value is None:
            if fmt is not None:
                self._write_blank(row, column, None, fmt)
        elif isinstance(value, bool):
            self._text(row, column, "yes" if value else "no", fmt)
        elif isinstance(value, datetime):
            self._write_datetime(row, column, naive_utc(value), fmt or self._datetime_format)
        elif isinstance(value, date):
            self._write_datetime(
                row, column, datetime(value.year, value.month, value.day), fmt or self._date_format
            )
        elif isinstance(value, int | float):
            self._write_number(row, column, value, fmt)
        else:
            self._text(row, column, str(value), fmt)

    def _text(self, row: int, column: int, text: str, fmt: Format | None) -> None:
        if not text:
            if fmt is not None:
                self._write_blank(row, column, None, fmt)
        elif text.startswith("<r>") and text.endswith("</r>"):
            # See the module docstring: three plain fragments, escaped by XlsxWriter.
            fragments: list[Any] = [text[:1], text[1:2], text[2:]]
            if fmt is not None:
                fragments.append(fmt)
            self.worksheet.write_rich_string(row, column, *fragments)
        else:
            self._write_string(row, column, text, fmt)
