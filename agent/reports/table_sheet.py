"""One framed table on one sheet: the frame every report sheet shares, and its cells.

Every sheet a report writes has the same frame: a title, an "As of … UTC" line,
the scope the report was cut for, then a header row that is frozen and filtered.
Rows follow it top to bottom (the workbook is written in ``constant_memory`` mode,
``agent.reports.xlsx``), each value written by its type. Each column is as wide as
its longest value up to its limit, and longer values wrap
(``agent.reports.column_widths``), so nothing is cut on screen or on paper.

Printed (or converted to PDF), a sheet is A4 landscape with the header rows and
the sheet's title repeated on every page. A table is fitted to the page width: a
list split sideways across pages cannot be read. A matrix (``across_pages``) is too
wide for that: it is printed a block of columns at a time, each page repeating the
frozen columns and the band over the header, breaking only between columns and
wherever the report asks for a page of its own (``agent.reports.printing``).

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

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from agent.reports.column_widths import BOLD_FACTOR, ColumnFit, text_width, wrapped_lines
from agent.reports.common import CellKind, Column, ReportScope, as_of_text, naive_utc
from agent.reports.printing import PagedAcross, fit_to_width, set_up_page

HEADER_ROW = 3  # zero-based: the fourth row, under title, as-of and scope
HEADER_FILL = "#305496"
MAX_ROWS = 1_048_576
LINE_HEIGHT = 15.0
#: The tallest an upright (rotated) header gets, in points.
ROTATED_HEADER_MAX = 150.0
#: The band over the header is set in 9 point type: its lines, and its letters'
#: width beside the body's 11 point.
BAND_LINE = 12.0
BAND_TYPE = 9 / 11


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

    def format(
        self, kind: CellKind, style: Style | None = None, *, wrap: bool = False
    ) -> Format | None: ...

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
        across_pages: bool = False,
        new_page_at: Collection[int] = (),
    ) -> None:
        self.report = report
        self.worksheet = worksheet
        self._write_string = _method(worksheet, "write_string")
        self._write_number = _method(worksheet, "write_number")
        self._write_datetime = _method(worksheet, "write_datetime")
        self._write_blank = _method(worksheet, "write_blank")
        self._row_info: dict[int, Any] = getattr(worksheet, "row_info", {})
        self._row_sizes: dict[int, Any] = getattr(worksheet, "row_sizes", {})
        self._datetime_format = report.format(CellKind.DATETIME)
        self._date_format = report.format(CellKind.DATE)
        self.columns = tuple(columns)
        self.rows = 0
        self._lines = 1  # the most lines a cell of the row being written takes
        self._filtered = False
        self._plain = [report.format(c.kind) for c in self.columns]
        self._wrapped = [report.format(c.kind, wrap=True) for c in self.columns]
        self._fits = [
            ColumnFit(c, fixed=rotate_from is not None and i >= rotate_from)
            for i, c in enumerate(self.columns)
        ]
        self.header_row = HEADER_ROW + (1 if group is not None else 0)
        self._next_row = self.header_row + 1
        self._paged = (
            PagedAcross([f.limit for f in self._fits], freeze_columns, new_page_at)
            if across_pages
            else None
        )
        ws = worksheet
        title_format = report.raw_format({"bold": True, "font_size": 14})
        note_format = report.raw_format({"italic": True, "font_color": "#595959"})
        self._text(0, 0, title, title_format)
        self._text(1, 0, as_of_text(report.as_of), note_format)
        self._text(2, 0, report.scope.line, note_format)
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
            self._group_row(group, group_format, self._paged.starts if self._paged else ())
        self._header(rotate_from)
        ws.freeze_panes(self.header_row + 1, freeze_columns)
        set_up_page(
            ws,
            title=title,
            as_of=f"{as_of_text(report.as_of)} · {report.scope.line}",
            repeat=(HEADER_ROW if group is not None else self.header_row, self.header_row),
        )

    def _header(self, rotate_from: int | None) -> None:
        """The header row, its height set for the titles wrapped at the narrowest widths.

        Row heights are not measured in ``constant_memory`` mode, and the header row
        is on disk before the widths are known: the columns only grow from here, so
        a title never needs more lines than this.
        """
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
        header_format = self.report.raw_format(header)
        rotated_format = self.report.raw_format(
            {**header, "rotation": 90, "valign": "bottom", "align": "center"}
        )
        flat = range(rotate_from if rotate_from is not None else len(self.columns))
        lines = max(
            (wrapped_lines(self.columns[i].title, self._fits[i].width / BOLD_FACTOR) for i in flat),
            default=1,
        )
        height = LINE_HEIGHT * lines + 2
        if rotate_from is not None and rotate_from < len(self.columns):
            longest = max(text_width(c.title) for c in self.columns[rotate_from:])
            height = max(height, min(ROTATED_HEADER_MAX, 6.5 * longest + 6))
        self.worksheet.set_row(self.header_row, height)
        for i, column in enumerate(self.columns):
            rotated = rotate_from is not None and i >= rotate_from
            self._text(
                self.header_row, i, column.title, rotated_format if rotated else header_format
            )

    @property
    def name(self) -> str:
        return str(self.worksheet.get_name())

    @property
    def widths(self) -> tuple[float, ...]:
        """Each column's width so far: the width it gets if no further row is written."""
        return tuple(f.width for f in self._fits)

    def append(
        self, values: Sequence[object], styles: Sequence[Style | None] | None = None
    ) -> None:
        """Write the next row of the table; ``styles`` (per cell) may colour cells."""
        row = self._next_row
        if row >= MAX_ROWS:
            raise ValueError(f"the sheet {self.name!r} is full ({MAX_ROWS} rows)")
        self._lines = 1
        for i, value in enumerate(values):
            self._cell(row, i, value, styles[i] if styles is not None else None)
        self._end_row(row)
        self.rows += 1

    def append_sparse(self, cells: Iterable[tuple[int, object, Style | None]]) -> None:
        """Write the next row from ``(column, value, style)`` triples in column order.

        A matrix row is mostly empty: writing only its filled cells keeps a
        staff × clients sheet as fast as the cells it holds, not the columns it has.
        """
        row = self._next_row
        if row >= MAX_ROWS:
            raise ValueError(f"the sheet {self.name!r} is full ({MAX_ROWS} rows)")
        self._lines = 1
        for column, value, style in cells:
            self._cell(row, column, value, style)
        self._end_row(row)
        self.rows += 1

    def _end_row(self, row: int) -> None:
        """Make the row as tall as its most wrapped cell: the sheet is streamed, so no
        application measures it later (LibreOffice keeps the stored height).

        XlsxWriter keeps every row's height until the workbook closes, even once the
        row is on disk; the height of a row two rows up, once on disk, is dropped, so a
        sheet of tall rows still costs the memory of one row.
        """
        if self._lines > 1:
            self.worksheet.set_row(row, LINE_HEIGHT * self._lines)
        if row - 2 < getattr(self.worksheet, "previous_row", 0):  # on disk already
            self._row_info.pop(row - 2, None)
            self._row_sizes.pop(row - 2, None)
        self._next_row += 1

    def _cell(self, row: int, column: int, value: object, style: Style | None) -> None:
        """One table cell: its column widened for it, wrapping if it is longer than that."""
        fit = self._fits[column]
        bold = style is not None and style.bold
        if type(value) is str:
            wrap = fit.text(value, bold=bold)
            if wrap:
                lines = wrapped_lines(value, fit.width / (BOLD_FACTOR if bold else 1.0))
                self._lines = max(self._lines, lines)
            if style is None:
                fmt = self._wrapped[column] if wrap else self._plain[column]
            else:
                fmt = self.report.format(self.columns[column].kind, style, wrap=wrap)
            self._text(row, column, value, fmt)
            return
        kind = self.columns[column].kind
        if value is not None:
            if isinstance(value, str | bool) or not isinstance(value, int | float | date):
                text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
                self._cell(row, column, text, style)
                return
            fit.value(kind, value, bold=bold)
        fmt = self._plain[column] if style is None else self.report.format(kind, style)
        self._put(row, column, value, fmt)

    def link(self, column: int, target: str, text: str) -> None:
        """Make the cell just written in ``column`` a hyperlink inside the workbook."""
        wrap = self._fits[column].text(text)
        link_format = self.report.raw_format(
            {"font_color": "blue", "underline": 1, "valign": "top", "text_wrap": wrap}
        )
        self.worksheet.write_url(self._next_row - 1, column, target, link_format, string=text)

    def after(self, values: Sequence[object], style: Style = BOLD) -> None:
        """A row below the table, outside its filter range (a total, or a note).

        A row of one text is a note: it spans the table's width and wraps there, so a
        long sentence is printed whole, not cut at the page's edge.
        """
        self._filter()
        row = self._next_row
        self._lines = 1
        if len(values) == 1 and isinstance(values[0], str) and len(self.columns) > 1:
            self._note(row, values[0], style)
        else:
            for i, value in enumerate(values):
                if i < len(self.columns):
                    self._cell(row, i, value, style)
                else:
                    self._put(row, i, value, self.report.format(CellKind.TEXT, style))
        self._end_row(row)

    def _note(self, row: int, text: str, style: Style) -> None:
        width = sum(self.widths)
        fmt = self.report.format(CellKind.TEXT, style, wrap=True)
        self._lines = wrapped_lines(text, width / (BOLD_FACTOR if style.bold else 1.0))
        self.worksheet.merge_range(row, 0, row, len(self.columns) - 1, "", fmt)
        self._text(row, 0, text, fmt)

    def finish(self) -> int:
        """Set the filter, the widths and the print layout; returns the row count.

        Called again after more rows below the table, it sets the widths anew.
        """
        self._filter()
        widths = self.widths
        for i, width in enumerate(widths):
            self.worksheet.set_column(i, i, round(width, 1))
        if self._paged is not None:
            self._paged.apply(self.worksheet, widths)
        else:
            fit_to_width(self.worksheet)
        return self.rows

    def _filter(self) -> None:
        if not self._filtered:
            last = self.header_row + max(self.rows, 1)
            self.worksheet.autofilter(self.header_row, 0, last, len(self.columns) - 1)
            self._filtered = True

    def _group_row(self, group: Sequence[str | None], fmt: Format, starts: Collection[int]) -> None:
        """Labels over the header; a run of equal labels becomes one merged cell.

        A run is cut where a printed page starts, and named again there, so every
        page says whose clients it shows. The row is as tall as its longest name
        needs, wrapped over its run, in the band's smaller type.
        """
        runs: list[tuple[int, int, str]] = []
        i = 0
        while i < len(group):
            label, end = group[i], i
            while end + 1 < len(group) and group[end + 1] == label and end + 1 not in starts:
                end += 1
            if label is not None:
                runs.append((i, end, label))
            i = end + 1
        widths = self.widths
        lines = max(
            (wrapped_lines(label, sum(widths[a : b + 1]) / BAND_TYPE) for a, b, label in runs),
            default=1,
        )
        self.worksheet.set_row(HEADER_ROW, max(30.0, BAND_LINE * lines + 4))
        for first, last, label in runs:
            if last > first:
                self.worksheet.merge_range(HEADER_ROW, first, HEADER_ROW, last, "", fmt)
            self._text(HEADER_ROW, first, label, fmt)

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
