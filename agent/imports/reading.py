"""Reading a practice's file: CSV or XLSX in, numbered rows keyed by known columns out.

Practices export these files from whatever they use (a practice manager, Excel, a
Google Sheet), so reading is forgiving about form and strict about meaning:

* CSV in UTF-8 with or without a byte-order mark (UTF-16 with a BOM, Excel's
  "Unicode text", is read too); the delimiter (``,``, ``;`` or tab) is sniffed from
  the header line, because a European Excel writes ``;``.
* XLSX: the first worksheet, read with openpyxl in read-only mode, values as cached
  (formulas give their last computed value); date cells arrive as dates.
* Row 1 is the header. Column names match ignoring case, surrounding spaces and
  spaces, ``_`` or ``-`` inside (``Left On``, ``left_on`` and ``LEFTON`` are one
  column). Unknown columns are ignored with a warning; a missing required column is
  an error, reported once for the file rather than once per row.
* Row numbers are the ones a spreadsheet shows: the header is row 1, and blank rows
  are skipped but still counted, as is a CSV record whose quoted cell spans lines.

Nothing here knows what a column means; ``agent.imports.parsing`` and the per-kind
modules do.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from os import PathLike
from pathlib import Path

from agent.imports.errors import ImportRejected, RowError

Cell = str | int | float | bool | date | datetime | time | timedelta | None
"""One cell's value: text from a CSV, or whatever type openpyxl gives for an XLSX cell."""

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of an import file, documented once for the reader, README and --help."""

    name: str
    required: bool
    description: str
    example: str


def column_key(header: str) -> str:
    """The form of a column name that its spellings share (``Left On`` is ``left_on``)."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", header)).casefold()


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its spreadsheet row number and its known columns' values.

    Text values are stripped; an empty cell is ``None``. A known column missing from
    the file reads as ``None`` too.
    """

    number: int
    values: Mapping[str, Cell]

    def get(self, column: str) -> Cell:
        return self.values.get(column)

    def has(self, column: str) -> bool:
        return self.values.get(column) is not None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A file read and its header checked; its rows are not yet validated.

    ``errors`` holds row problems found while reading (a CSV row with more values than
    the header has columns); the kind's validation adds its own and rejects them all
    together.
    """

    file: str
    sha256: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    warnings: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = field(default=())


def read_sheet(path: str | PathLike[str], specs: Sequence[ColumnSpec]) -> Sheet:
    """Read ``path`` (CSV or XLSX, told apart by content) against ``specs``.

    Raises ``ImportRejected`` when the file cannot be read as a table, has no header,
    or lacks a required column. ``OSError`` (no such file) is not caught.
    """
    source = Path(path)
    return parse_sheet(source.read_bytes(), source.name, specs)


def parse_sheet(data: bytes, file: str, specs: Sequence[ColumnSpec]) -> Sheet:
    """``read_sheet`` for bytes already in hand; ``file`` names them in every message."""
    digest = hashlib.sha256(data).hexdigest()
    is_csv = not _is_xlsx(data, file)
    records = _csv_records(data, file) if is_csv else _xlsx_records(data, file)
    header: list[Cell] | None = None
    body: list[tuple[int, list[Cell]]] = []
    for number, cells in records:
        if header is None:
            header = cells
            if _blank(cells):
                raise ImportRejected([_file_error(
                    file, 1, "row 1 is empty; the first row must be a header naming the columns"
                )])
            continue
        if not _blank(cells):
            body.append((number, cells))
    if header is None:
        raise ImportRejected([_file_error(
            file, None, "the file is empty; the first row must be a header naming the columns"
        )])
    positions, notes = _match_header(header, specs, file)
    errors: list[RowError] = []
    rows: list[Row] = []
    width = len(header)
    for number, cells in body:
        values = {
            name: _clean(cells[index]) if index < len(cells) else None
            for name, index in positions.items()
        }
        if is_csv and any(_clean(c) is not None for c in cells[width:]):
            errors.append(RowError(
                file, number, None,
                f"the row has {len(cells)} values but the header names {width} columns; "
                "a value containing the delimiter must be in double quotes",
            ))
        rows.append(Row(number, values))
    return Sheet(
        file=file,
        sha256=digest,
        columns=tuple(positions),
        rows=tuple(rows),
        warnings=tuple(notes),
        errors=tuple(errors),
    )


def _match_header(
    header: list[Cell], specs: Sequence[ColumnSpec], file: str
) -> tuple[dict[str, int], list[str]]:
    by_key = {column_key(spec.name): spec for spec in specs}
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        title = "" if cell is None else str(cell).strip()
        if not title:
            continue
        spec = by_key.get(column_key(title))
        if spec is None:
            unknown.append(title)
        elif spec.name in positions:
            errors.append(RowError(
                file, 1, spec.name,
                f"two columns, {titles[spec.name]!r} and {title!r}, are both {spec.name}; "
                "keep one",
            ))
        else:
            positions[spec.name] = index
            titles[spec.name] = title
    found = ", ".join(str(c).strip() for c in header if c is not None and str(c).strip())
    errors.extend(
        RowError(file, 1, spec.name, f"required column is missing (the header has: {found})")
        for spec in specs
        if spec.required and spec.name not in positions
    )
    if errors:
        raise ImportRejected(errors)
    known = ", ".join(spec.name for spec in specs)
    notes = [f"column {title!r} is not used and was ignored (columns read: {known})"
             for title in unknown]
    return positions, notes


def _file_error(file: str, row: int | None, reason: str) -> RowError:
    return RowError(file, row, None, reason)


def _clean(cell: Cell) -> Cell:
    if isinstance(cell, str):
        text = cell.strip()
        return text or None
    return cell


def _blank(cells: Sequence[Cell]) -> bool:
    return all(_clean(c) is None for c in cells)


def _is_xlsx(data: bytes, file: str) -> bool:
    if data.startswith(_OLE_MAGIC) or file.lower().endswith(".xls"):
        raise ImportRejected([_file_error(
            file, None,
            "this is an old-style .xls workbook; save it as .xlsx or as CSV UTF-8 and try again",
        )])
    return data.startswith(_ZIP_MAGIC)


def _csv_records(data: bytes, file: str) -> list[tuple[int, list[Cell]]]:
    text = _decode(data, file)
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[Cell]]] = []
    try:
        for record in reader:
            records.append((len(records) + 1, list(record)))
    except csv.Error as exc:
        raise ImportRejected([_file_error(
            file, len(records) + 1, f"cannot be read as CSV: {exc}"
        )]) from exc
    return records


def _decode(data: bytes, file: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportRejected([_file_error(
                file, None, f"starts like UTF-16 text but is not: {exc.reason}"
            )]) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        raise ImportRejected([_file_error(
            file, None,
            f"is not UTF-8 text (byte 0x{byte} on line {line}); "
            'in Excel use "Save As" > "CSV UTF-8", or save as .xlsx',
        )]) from exc


def _xlsx_records(data: bytes, file: str) -> list[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError)
    with warnings.catch_warnings():
        # openpyxl warns about workbook features it skips (data validation, styles);
        # they do not change cell values.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except unreadable as exc:
            raise ImportRejected([_file_error(
                file, None, f"is not a readable .xlsx workbook ({exc})"
            )]) from exc
        try:
            if not workbook.worksheets:
                raise ImportRejected([_file_error(file, None, "the workbook has no worksheet")])
            sheet = workbook.worksheets[0]
            # Read-only mode trusts the dimension the writer recorded, which some tools
            # get wrong; without it every row in the file is read.
            sheet.reset_dimensions()
            try:
                return [
                    (number, list(values))
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                    if number == 1 or not _blank(values)
                ]
            except unreadable as exc:
                raise ImportRejected([_file_error(
                    file, None, f"the first worksheet cannot be read ({exc})"
                )]) from exc
        finally:
            workbook.close()
