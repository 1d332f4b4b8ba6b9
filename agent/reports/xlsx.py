"""Streaming .xlsx workbooks: constant memory, whole or absent, one format per look.

The writer is XlsxWriter in ``constant_memory`` mode: rows go to disk as they are
written, so a 100,000-row sheet costs the memory of one row. ``bench/export``
measured it against openpyxl's write-only mode (about a third of the speed) and
chose it. Rows must be written top to bottom, which the report queries do.

A workbook is an ``XlsxReport``: it names its sheets, shares each cell format
among them, and removes a half-written file. Each sheet is a
``agent.reports.table_sheet.TableSheet``, which writes the frame every sheet shares,
keeps every text value text and sizes every column to its values.

Cells are aligned to the top, so a row whose one long value wraps onto a second
line still reads across. Dates read as the rest of the product writes them
(``5 Dec 2026 14:05``), and stay real dates that sort and filter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format

from agent.reports.common import CellKind, Column, ReportScope, as_of_text, naive_utc
from agent.reports.table_sheet import Style, TableSheet

#: Dates and numbers stand right in their cells; each format ends in the room of a
#: space (``_ ``), so a value never runs into the text of the next column's cell.
DATETIME_FORMAT = "d mmm yyyy hh:mm_ "
DATE_FORMAT = "d mmm yyyy_ "
MAX_COLUMNS = 16_384
_INVALID_SHEET_CHARS = set("[]:*?/\\")
_RESERVED_SHEET_TITLES = {"history"}
_NUMBER_FORMATS = {
    CellKind.DATETIME: DATETIME_FORMAT,
    CellKind.DATE: DATE_FORMAT,
    CellKind.INT: "#,##0_ ",
    CellKind.MONEY: "#,##0.00_ ",
}


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
        self._formats: dict[tuple[CellKind, Style | None, bool], Format | None] = {}
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

    def format(
        self, kind: CellKind, style: Style | None = None, *, wrap: bool = False
    ) -> Format | None:
        """The (shared) format for a kind of value in a style, wrapping or not."""
        key = (kind, style, wrap)
        if key in self._formats:
            return self._formats[key]
        props: dict[str, Any] = {"valign": "top"}
        if wrap:
            props["text_wrap"] = True
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
        made = self._book.add_format(props)
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
        across_pages: bool = False,
        new_page_at: Collection[int] = (),
    ) -> TableSheet:
        """A new sheet with its frame written; rows follow with ``TableSheet.append``.

        ``group`` is an optional row above the header (one label per column, e.g.
        the client manager over each client); ``rotate_from`` turns header labels
        from that column on upright, for narrow matrix columns, and keeps those
        columns at their width. A sheet printed ``across_pages`` is printed a block of
        columns at a time rather than fitted to one page's width, with a new page at
        each column of ``new_page_at``.
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
            across_pages=across_pages,
            new_page_at=new_page_at,
        )
        self._sheets.append(table)
        return table
