"""Streaming .xlsx writing: constant memory, text always text, every sheet framed alike.

Every sheet a report writes has the same frame: a title, an "As of … UTC" line,
the scope the report was cut for, then a header row that is frozen and filtered,
with set column widths, printed landscape with the header repeated on each page.

The writer is XlsxWriter in ``constant_memory`` mode: rows go to disk as they are
written, so a 100,000-row sheet costs the memory of one row. ``bench/export``
measured it against openpyxl's write-only mode (about a third of the speed) and
chose it. Rows must be written top to bottom, which the report queries do.

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
from pathlib import Path
from types import TracebackType
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from agent.reports.common import CellKind, Column, ReportScope, as_of_text, naive_utc

HEADER_ROW = 3  # zero-based: the fourth row, under title, as-of and scope
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = "#305496"
MAX_COLUMNS = 16_384
MAX_ROWS = 1_048_576
#: Column width units (characters) that still print legibly on one A4 landscape page,
#: and what each further page takes.
PAGE_WIDTH_MAX = 240
PAGE_WIDTH = 200
_INVALID_SHEET_CHARS = set("[]:*?/\\")
_RESERVED_SHEET_TITLES = {"history"}
_NUMBER_FORMATS = {
    CellKind.DATETIME: DATETIME_FORMAT,
    CellKind.DATE: DATE_FORMAT,
    CellKind.INT: "#,##0",
    CellKind.MONEY: "#,##0.00",
}


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


def safe_sheet_title(raw: str, taken: set[str]) -> str:
    """A sheet title Excel accepts (≤ 31 chars, no []:*?/\\ or control characters), unique."""
    cleaned = (
        "".join("_" if c in _INVALID_SHEET_CHARS or ord(c) < 32 else c for c in raw).strip("' ")
        or "Sheet"
    )
    title = cleaned[:31].rstrip("'")
    n = 2
    folded = {t.casefold() for t in taken}
    while title.casefold() in folded or title.casefold() in _RESERVED_SHEET_TITLES:
        suffix = f" ({n})"
        title = cleaned[: 31 - len(suffix)].rstrip("'") + suffix
        n += 1
    taken.add(title)
    return title


def _method(worksheet: Worksheet, name: str) -> Callable[..., Any]:
    """The worksheet's undecorated ``_write_*`` method where it has one, else the public one.

    The public methods first parse A1-style arguments, which costs about a tenth of a
    100k-row export; row and column here are always numbers.
    """
    return getattr(worksheet, f"_{name}", None) or getattr(worksheet, name)


def sheet_link(title: str) -> str:
    """An in-workbook hyperlink target to a sheet's first cell."""
    return "internal:'{}'!A1".format(title.replace("'", "''"))


class XlsxReport:
    """One workbook being written; use as a context manager.

    If the block raises, the half-written file is removed: a report is either whole
    or absent, never a truncated file someone might forward.
    """

    def __init__(self, path: Path, *, title: str, as_of: datetime, scope: ReportScope) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.as_of = as_of
        self.scope = scope
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        self._book.set_properties(
            {
                "title": title,
                "comments": f"{as_of_text(as_of)} · {scope.line}",
                "created": naive_utc(as_of),
            }
        )
        self._formats: dict[tuple[CellKind, Style | None], Format | None] = {}
        self._raw_formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._taken: set[str] = set()
        self._sheets: list[TableSheet] = []

    def __enter__(self) -> XlsxReport:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
            return
        try:
            self._book.close()
        finally:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        for sheet in self._sheets:
            sheet.finish()
        self._book.close()

    def format(self, kind: CellKind, style: Style | None = None) -> Format | None:
        """The (shared) format for a kind of value in a style; ``None`` for plain text."""
        key = (kind, style)
        if key in self._formats:
            return self._formats[key]
        props: dict[str, Any] = {}
        if kind in _NUMBER_FORMATS:
            props["num_format"] = _NUMBER_FORMATS[kind]
        if style is not None:
            if style.fill:
                props.update(pattern=1, bg_color=style.fill)
            if style.color:
                props["font_color"] = style.color
            if style.bold:
                props["bold"] = True
            if style.italic:
                props["italic"] = True
            if style.center:
                props["align"] = "center"
        made = self._book.add_format(props) if props else None
        self._formats[key] = made
        return made

    def raw_format(self, props: dict[str, Any]) -> Format:
        """A format from XlsxWriter properties, made once per workbook."""
        key = tuple(sorted(props.items()))
        if key not in self._raw_formats:
            self._raw_formats[key] = self._book.add_format(props)
        return self._raw_formats[key]

    def sheet(
        self,
        name: str,
        *,
        title: str,
        columns: Sequence[Column],
        group: Sequence[str | None] | None = None,
        freeze_columns: int = 0,
        rotate_from: int | None = None,
    ) -> TableSheet:
        """A new sheet with its frame written; rows follow with ``TableSheet.append``.

        ``group`` is an optional row above the header (one label per column, e.g.
        the client manager over each client); ``rotate_from`` turns header labels
        from that column on upright, for narrow matrix columns.
        """
        if len(columns) > MAX_COLUMNS:
            raise ValueError(f"{len(columns)} columns do not fit one sheet ({MAX_COLUMNS})")
        worksheet = self._book.add_worksheet(safe_sheet_title(name, self._taken))
        table = TableSheet(
            self,
            worksheet,
            title=title,
            columns=columns,
            group=group,
            freeze_columns=freeze_columns,
            rotate_from=rotate_from,
        )
        self._sheets.append(table)
        return table


class TableSheet:
    """One framed table on one sheet, written row by row from the top."""

    def __init__(
        self,
        report: XlsxReport,
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
