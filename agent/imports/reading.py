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
  column), and each column may be written under any of its documented aliases
  (``primary_email`` is ``emails``). A missing required column is an error, reported
  once for the file rather than once per row. An unknown column is ignored with a
  warning, unless its name suggests it holds something the import reads (a column
  ``Xero Tenant`` in a client list): then it is an error naming it, because ignoring
  it would import the file "successfully" with that data silently dropped.
* Row numbers are the ones a spreadsheet shows: the header is row 1, and blank rows
  are skipped but still counted, as is a CSV record whose quoted cell spans lines.
* Text holds no control characters: NUL and the like are refused with the file, row
  and column; tab and line breaks only in cells that hold a list.

Files are read as streams and bounded. A first, cheap pass counts the data rows and
keeps none: at the first row over ``max_rows`` the file is refused with one error, not
a million, having cost the reading of ``max_rows`` rows and almost no memory (for an
XLSX this pass reads the sheet's XML with expat, without making cells). Only then
are the rows read and kept, with openpyxl in read-only mode for an XLSX. The XLSX
shared-strings table (every text of the workbook, which Excel keeps in one part) is
parsed only as far as the rows read refer to it, never loaded whole up front.

Nothing here knows what a column means; ``agent.imports.parsing`` and the per-kind
modules do.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from os import PathLike
from pathlib import Path
from typing import IO, Any

from agent.imports.errors import ImportRejected, Problems, RowError

Cell = str | int | float | bool | date | datetime | time | timedelta | None
"""One cell's value: text from a CSV, or whatever type openpyxl gives for an XLSX cell."""

DEFAULT_MAX_ROWS = 200_000
"""Data rows one file may hold (``ACCESSRECON_IMPORT_MAX_ROWS``); far above any practice."""

MAX_ROWS_SETTING = "ACCESSRECON_IMPORT_MAX_ROWS"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (",", ";", "\t")
_CHUNK = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LIST = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {"\x00": "NUL", "\t": "a tab", "\n": "a line break", "\r": "a line break"}
_NO_FLAGS: frozenset[str] = frozenset()
_SHARED_TEXT = 32
_SHARED_TEXTS = 4096


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of an import file, documented once for the reader, README and --help.

    ``aliases`` are other names a practice's export gives the column; ``multi`` marks
    a cell holding a list (tab and line breaks allowed between values); ``watch`` are
    fragments of a column name that make an unknown column an error naming this one
    (matched against the name's ``column_key``).
    """

    name: str
    required: bool
    description: str
    example: str
    aliases: tuple[str, ...] = ()
    multi: bool = False
    watch: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def column_key(header: str) -> str:
    """The form of a column name that its spellings share (``Left On`` is ``left_on``)."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", header)).casefold()


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each known column of a file is, and how the file's header wrote it.

    Shared by every row of one file, so a row holds only its cells.
    """

    index: Mapping[str, int]
    titles: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its spreadsheet row number and its known columns' values.

    Text values are stripped; an empty cell is ``None``. A known column missing from
    the file reads as ``None`` too. ``flagged`` names columns whose cell was already
    refused while reading (a control character), so validation does not report it
    twice.
    """

    number: int
    cells: tuple[Cell, ...]
    layout: Layout
    flagged: frozenset[str] = _NO_FLAGS

    def get(self, column: str) -> Cell:
        position = self.layout.index.get(column)
        return None if position is None else self.cells[position]

    def has(self, column: str) -> bool:
        return self.get(column) is not None

    def title(self, column: str) -> str:
        """The column as the file's header names it (its own name if the file lacks it)."""
        return self.layout.titles.get(column, column)

    @property
    def values(self) -> dict[str, Cell]:
        return {name: self.cells[i] for name, i in self.layout.index.items()}


Record = tuple[Cell, ...]
"""One stored row: its number, then its known columns' cells (one tuple, no object)."""


class Rows(Sequence[Row]):
    """A file's data rows, held as one tuple each and made ``Row`` as they are read.

    A file may hold ``max_rows`` rows, and all are held until the whole file is
    validated; an object per row would cost more than its cells.
    """

    __slots__ = ("_flagged", "_layout", "_records")

    def __init__(self, records: list[Record], layout: Layout,
                 flagged: Mapping[int, frozenset[str]]) -> None:
        self._records = records
        self._layout = layout
        self._flagged = flagged

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> Row:  # type: ignore[override]
        return self._row(self._records[index])

    def __iter__(self) -> Iterator[Row]:
        return map(self._row, self._records)

    def _row(self, record: Record) -> Row:
        number = record[0]
        assert isinstance(number, int)
        return Row(number, record[1:], self._layout, self._flagged.get(number, _NO_FLAGS))


@dataclass(frozen=True, slots=True)
class Sheet:
    """A file read and its header checked; its rows are not yet validated.

    ``errors`` holds row problems found while reading (a CSV row with more values than
    the header has columns, a control character); the kind's validation adds its own
    (``Problems(sheet.errors)`` keeps the count) and rejects them all together.
    ``titles`` maps each known column to the header as the file wrote it.
    """

    file: str
    sha256: str
    columns: tuple[str, ...]
    rows: Sequence[Row]
    warnings: tuple[str, ...] = ()
    errors: Problems = field(default_factory=Problems)
    titles: Mapping[str, str] = field(default_factory=dict)

    def title(self, column: str) -> str:
        return self.titles.get(column, column)


def read_sheet(
    path: str | PathLike[str], specs: Sequence[ColumnSpec], *,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Sheet:
    """Read ``path`` (CSV or XLSX, told apart by content) against ``specs``.

    Raises ``ImportRejected`` when the file cannot be read as a table, has no header,
    lacks a required column, has an unknown column that looks like a known one, or
    has more than ``max_rows`` data rows (reading stops there). ``OSError`` (no such
    file) is not caught.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    source = Path(path)
    file = source.name
    with source.open("rb") as handle:
        head = handle.read(len(_OLE_MAGIC))
    is_csv = not _is_xlsx(head, file)
    digest = _digest(source, file, check_text=is_csv)
    records = (_csv_records(source, file, max_rows) if is_csv
               else _xlsx_records(source, file, max_rows))
    with closing(records):
        return _read_records(records, file, digest, specs, max_rows=max_rows, is_csv=is_csv)


def _read_records(
    rows: Iterator[tuple[int, Sequence[Cell]]], file: str, digest: str,
    specs: Sequence[ColumnSpec], *, max_rows: int, is_csv: bool,
) -> Sheet:
    header = next(rows, None)
    if header is None:
        raise ImportRejected([_file_error(
            file, None, "the file is empty; the first row must be a header naming the columns"
        )])
    if _blank(header[1]):
        raise ImportRejected([_file_error(
            file, 1, "row 1 is empty; the first row must be a header naming the columns"
        )])
    header_cells = list(header[1])
    positions, titles, notes = _match_header(header_cells, specs, file)
    lists = {spec.name: spec.multi for spec in specs}
    known = [(name, position, lists[name]) for name, position in positions.items()]
    layout = Layout(index={name: i for i, name in enumerate(positions)}, titles=titles)
    errors = Problems()
    records: list[Record] = []
    flags: dict[int, frozenset[str]] = {}
    shared: dict[str, str] = {}
    width = len(header_cells)
    for number, cells in rows:
        if _blank(cells):
            continue
        if len(records) >= max_rows:
            # Counted before; a file that changed since is refused the same way.
            raise _over_cap(file, number, max_rows)
        values: list[Cell] = [number]
        flagged: set[str] = set()
        for name, position, multi in known:
            value = _clean(cells[position]) if position < len(cells) else None
            if isinstance(value, str):
                if bad := _control_problem(value, multi):
                    errors.append(RowError(file, number, layout.titles[name], bad))
                    flagged.add(name)
                if len(value) <= _SHARED_TEXT and len(shared) < _SHARED_TEXTS:
                    # Statuses, titles, portals repeat on every row: hold each once.
                    value = shared.setdefault(value, value)
            values.append(value)
        if is_csv and any(_clean(c) is not None for c in cells[width:]):
            errors.append(RowError(
                file, number, None,
                f"the row has {len(cells)} values but the header names {width} columns; "
                "a value containing the delimiter must be in double quotes",
            ))
        if flagged:
            flags[number] = frozenset(flagged)
        records.append(tuple(values))
    return Sheet(
        file=file,
        sha256=digest,
        columns=tuple(layout.index),
        rows=Rows(records, layout, flags),
        warnings=tuple(notes),
        errors=errors,
        titles=dict(layout.titles),
    )


def _control_problem(text: str, multi: bool) -> str | None:
    """Why a text cell is refused for a control character, or ``None`` if it is clean."""
    found = (_CONTROL_IN_LIST if multi else _CONTROL).search(text)
    if found is None:
        return None
    char = found.group()
    name = _CONTROL_NAMES.get(char) or f"U+{ord(char):04X} {unicodedata.name(char, 'control')}"
    code = f"U+{ord(char):04X}"
    what = name if name.startswith("U+") else f"{name} ({code})"
    allowed = " (tab and line breaks only separate the values of a list cell)" if multi else ""
    return (f"contains a control character, {what}, at character {found.start() + 1}; "
            f"remove it{allowed}")


def _match_header(
    header: list[Cell], specs: Sequence[ColumnSpec], file: str
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Each known column's position and title in the header, and the notes on the rest."""
    by_key: dict[str, ColumnSpec] = {}
    for spec in specs:
        for name in spec.names:
            by_key.setdefault(column_key(name), spec)
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        title = "" if cell is None else str(cell).strip()
        if not title:
            continue
        key = column_key(title)
        spec = by_key.get(key)
        if spec is None:
            suspects = [s for s in specs if any(word in key for word in s.watch)]
            if suspects:
                errors.append(_suspect_error(file, title, suspects))
            else:
                unknown.append(title)
        elif spec.name in positions:
            errors.append(RowError(
                file, 1, title,
                f"two columns, {titles[spec.name]!r} and {title!r}, are both {spec.name}; "
                "keep one",
            ))
        else:
            positions[spec.name] = index
            titles[spec.name] = title
    found = ", ".join(str(c).strip() for c in header if c is not None and str(c).strip())
    for spec in specs:
        if spec.required and spec.name not in positions:
            also = f"; also read as {_either(spec.aliases)}" if spec.aliases else ""
            errors.append(RowError(
                file, 1, spec.name,
                f"required column is missing (the header has: {found}{also})",
            ))
    if errors:
        raise ImportRejected(errors)
    known = ", ".join(spec.name for spec in specs)
    notes = [f"column {title!r} is not used and was ignored (columns read: {known})"
             for title in unknown]
    return positions, titles, notes


def _suspect_error(file: str, title: str, suspects: Sequence[ColumnSpec]) -> RowError:
    names = _either([s.name for s in suspects])
    return RowError(
        file, 1, title,
        f"this column is not one the import reads, but its name suggests it is {names}; "
        f"ignoring it would drop its data, so rename it to {names} (see the README's "
        "Import formats) or remove it",
    )


def _either(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _file_error(file: str, row: int | None, reason: str) -> RowError:
    return RowError(file, row, None, reason)


def _clean(cell: Cell) -> Cell:
    if isinstance(cell, str):
        text = cell.strip()
        return text or None
    return cell


def _blank(cells: Sequence[Cell]) -> bool:
    return all(_clean(c) is None for c in cells)


def _is_xlsx(head: bytes, file: str) -> bool:
    if head.startswith(_OLE_MAGIC) or file.lower().endswith(".xls"):
        raise ImportRejected([_file_error(
            file, None,
            "this is an old-style .xls workbook; save it as .xlsx or as CSV UTF-8 and try again",
        )])
    return head.startswith(_ZIP_MAGIC)


def _digest(source: Path, file: str, *, check_text: bool) -> str:
    """The file's SHA-256, read in chunks; for a CSV, also proof that it decodes.

    Decoding is checked here, before any row is read, so that a bad byte is reported
    with its line whatever the reader would have buffered.
    """
    sha = hashlib.sha256()
    decoder: codecs.IncrementalDecoder | None = None
    lines = 0
    with source.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            if not check_text:
                continue
            if decoder is None:
                decoder = codecs.getincrementaldecoder(_encoding_of(chunk))()
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _decode_error(file, exc, lines) from exc
            lines += chunk.count(b"\n")
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise _decode_error(file, exc, lines) from exc
    return sha.hexdigest()


def _encoding_of(start: bytes) -> str:
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _decode_error(file: str, exc: UnicodeDecodeError, lines: int) -> ImportRejected:
    """The refusal of a file that does not decode; ``lines`` were decoded before the chunk."""
    if "16" in exc.encoding:
        return ImportRejected([_file_error(
            file, None, f"starts like UTF-16 text but is not: {exc.reason}"
        )])
    # The bytes the decoder held back from the last chunk are an unfinished character,
    # never a line break, so the chunk's own line breaks complete the count.
    data = bytes(exc.object)
    line = lines + data[: exc.start].count(b"\n") + 1
    byte = data[exc.start : exc.start + 1].hex().upper()
    return ImportRejected([_file_error(
        file, None,
        f"is not UTF-8 text (byte 0x{byte} on line {line}); "
        'in Excel use "Save As" > "CSV UTF-8", or save as .xlsx',
    )])


def _over_cap(file: str, number: int, max_rows: int) -> ImportRejected:
    return ImportRejected([RowError(
        file, number, None,
        f"{file} has more than {max_rows:,} rows; the limit is {max_rows:,} "
        f"({MAX_ROWS_SETTING})",
    )])


def _count_rows(
    rows: Generator[tuple[int, Sequence[Cell]], None, None], file: str, max_rows: int
) -> None:
    """Refuse the file at its first data row over ``max_rows``, holding nothing read.

    This pass comes before the one that keeps the rows, so a file that is refused for
    its length costs the reading of ``max_rows`` rows and no memory for them.
    """
    with closing(rows):
        count = 0
        for number, cells in rows:
            if number <= 1 or _blank(cells):  # row 1 is the header
                continue
            count += 1
            if count > max_rows:
                raise _over_cap(file, number, max_rows)


def _csv_records(
    source: Path, file: str, max_rows: int
) -> Iterator[tuple[int, Sequence[Cell]]]:
    """The CSV's records, read as a stream after a first pass that counts them."""
    _count_rows(_csv_stream(source, file), file, max_rows)
    yield from _csv_stream(source, file)


def _csv_stream(
    source: Path, file: str
) -> Generator[tuple[int, Sequence[Cell]], None, None]:
    """The CSV's records as read; each record is one spreadsheet row."""
    with source.open("rb") as probe:
        encoding = _encoding_of(probe.read(4))
    with source.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
        if not first_line:
            return
        delimiter = max(_DELIMITERS, key=first_line.count)
        if first_line.count(delimiter) == 0:
            delimiter = ","
        reader = csv.reader(itertools.chain([first_line], handle), delimiter=delimiter)
        number = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportRejected([_file_error(
                    file, number + 1, f"cannot be read as CSV: {exc}"
                )]) from exc
            number += 1
            yield number, list(record)


_UNREADABLE: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, EOFError,
    SyntaxError,  # ElementTree's ParseError
)


def _xlsx_records(
    source: Path, file: str, max_rows: int
) -> Iterator[tuple[int, tuple[Cell, ...]]]:
    """The first worksheet's rows, streamed after a first pass that counts them.

    Shared strings are parsed only as far as the rows read need them.
    """
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (*_UNREADABLE, InvalidFileException)
    with source.open("rb") as handle:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it skips (data validation, styles);
            # they do not change cell values.
            warnings.simplefilter("ignore")
            try:
                workbook, strings_part = _open_workbook(handle)
            except unreadable as exc:
                raise ImportRejected([_file_error(
                    file, None, f"is not a readable .xlsx workbook ({_reason(exc)})"
                )]) from exc
        try:
            if not workbook.worksheets:
                raise ImportRejected([_file_error(file, None, "the workbook has no worksheet")])
            sheet = workbook.worksheets[0]
            try:
                _count_rows(_xlsx_count_stream(workbook._archive, sheet._worksheet_path,
                                               strings_part),
                            file, max_rows)
            except unreadable as exc:
                raise ImportRejected([_file_error(
                    file, None, f"the first worksheet cannot be read ({_reason(exc)})"
                )]) from exc
            # Read-only mode trusts the dimension the writer recorded, which some tools
            # get wrong; without it every row in the file is read.
            sheet.reset_dimensions()
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            while True:
                try:
                    number, values = next(rows)
                except StopIteration:
                    return
                except unreadable as exc:
                    raise ImportRejected([_file_error(
                        file, None, f"the first worksheet cannot be read ({_reason(exc)})"
                    )]) from exc
                yield number, values
        finally:
            workbook.close()


_FILLED: tuple[Cell, ...] = ("filled",)
_EMPTY: tuple[Cell, ...] = ()


_LOCAL_NAMES: dict[str, str] = {}


def _local(name: str) -> str:
    """An XML name without its namespace prefix (``x:row`` is ``row``)."""
    local = _LOCAL_NAMES.get(name)
    if local is None:
        local = _LOCAL_NAMES[name] = name.rpartition(":")[2]
    return local


class _RowScan:
    """Expat handlers that note, for each ``row`` of a worksheet, whether it holds a value.

    A value is a cell's ``v`` (a shared string only if it is not blank, text only if
    not blank, anything else always) or inline text that is not blank, which is what
    reading the row with openpyxl would give. No element objects are made: this is
    the cheap pass that counts rows before the one that reads them.
    """

    def __init__(self, blanks: _BlankStrings | None) -> None:
        self.blanks = blanks
        self.done: list[tuple[int, bool]] = []
        self._number = 0
        self._filled = False
        self._kind = "n"
        self._text: list[str] | None = None
        self._inline = False
        self._phonetic = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "row":
            given = attrs.get("r")
            self._number = int(given) if given else self._number + 1
            self._filled = False
        elif self._filled:
            return  # the row is known to hold a value; the rest need not be read
        elif local == "c":
            self._kind = attrs.get("t", "n")
        elif local == "v" or (local == "t" and self._inline and not self._phonetic):
            self._text = []
        elif local == "is":
            self._inline = True
        elif local == "rPh":
            self._phonetic = True  # phonetic guides are not the cell's text

    def text(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "v" and self._text is not None:
            self._filled = self._filled or self._value("".join(self._text))
            self._text = None
        elif local == "t" and self._text is not None:
            self._filled = self._filled or bool("".join(self._text).strip())
            self._text = None
        elif local == "is":
            self._inline = False
        elif local == "rPh":
            self._phonetic = False
        elif local == "row":
            self.done.append((self._number, self._filled))

    def _value(self, text: str) -> bool:
        if self._kind == "s":
            return self.blanks is None or not self.blanks.is_blank(int(text))
        if self._kind in ("str", "inlineStr"):
            return bool(text.strip())
        return bool(text)


def _expat(handlers: Any) -> Any:
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = handlers.start
    parser.EndElementHandler = handlers.end
    parser.CharacterDataHandler = handlers.text
    return parser


def _xlsx_count_stream(
    archive: zipfile.ZipFile, sheet_part: str, strings_part: str | None
) -> Generator[tuple[int, Sequence[Cell]], None, None]:
    """Each row of a worksheet as its number and whether it holds a value, from the XML.

    Much cheaper than reading cells: no values are made, and shared strings are
    looked at only to tell a blank one (``" "``) from text, keeping one bit each. A
    row is numbered as openpyxl numbers it (its ``r``, else one after the last).
    """
    blanks = _BlankStrings(archive, strings_part) if strings_part else None
    scan = _RowScan(blanks)
    parser = _expat(scan)
    try:
        with archive.open(sheet_part) as source:
            while chunk := source.read(_CHUNK // 4):
                parser.Parse(chunk, False)
                for number, filled in scan.done:
                    yield number, (_FILLED if filled else _EMPTY)
                scan.done.clear()
            parser.Parse(b"", True)
            for number, filled in scan.done:
                yield number, (_FILLED if filled else _EMPTY)
    finally:
        if blanks is not None:
            blanks.close()


def _reason(exc: BaseException) -> str:
    """What went wrong, without openpyxl's wrapping (which names the server's temp path)."""
    cause = exc.__cause__ if isinstance(exc, ValueError) and exc.__cause__ else exc
    return str(cause).splitlines()[0] if str(cause) else type(cause).__name__


def _open_workbook(handle: IO[bytes]) -> tuple[Any, str | None]:
    """An openpyxl read-only workbook over ``handle`` whose shared strings stream, and
    the name of its shared-strings part (``None`` if it has none)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.xml.constants import SHARED_STRINGS

    class UnsizedSheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            """Skip it: the recorded size is not trusted (see ``reset_dimensions``), and a
            sheet that records none would be parsed whole just to find that out."""

    class StreamingReader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                self.shared_strings = _SharedStrings(self.archive, part.PartName[1:])

        def read_worksheets(self) -> None:
            # Read-only sheets only, as openpyxl's read-only mode makes them; chart
            # sheets hold no cells and are left out.
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                    continue
                worksheet = UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
                worksheet.sheet_state = sheet.state
                self.wb._sheets.append(worksheet)

    reader = StreamingReader(handle, read_only=True, data_only=True)
    reader.read()
    strings = reader.shared_strings
    return reader.wb, (strings.part if isinstance(strings, _SharedStrings) else None)


class _SharedStrings:
    """A workbook's shared strings, parsed from the start only as far as asked.

    Excel numbers the strings in order of first use, so reading rows in order asks
    for them nearly in order: a file refused after its first rows never holds the
    strings of the rest. The text of each string is openpyxl's (runs joined, phonetic
    guides left out).
    """

    def __init__(self, archive: zipfile.ZipFile, part: str) -> None:
        from openpyxl.xml.functions import iterparse

        self.part = part
        self._source = archive.open(part)
        self._events: Iterator[tuple[str, Any]] = iterparse(
            self._source, events=("start", "end"))
        self._root: Any = None
        self._items: list[str] = []
        self._done = False

    def __getitem__(self, index: int) -> str:
        while index >= len(self._items) and not self._done:
            self._advance()
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def _advance(self) -> None:
        for event, node in self._events:
            if event == "start":
                if self._root is None:
                    self._root = node
                continue
            if node.tag == _SI:
                self._items.append(_string_text(node))
                # Parsed elements stay attached to the root unless removed.
                self._root.clear()
                return
        self._done = True
        self._source.close()


class _BlankStrings:
    """Which shared strings are blank, one bit each, parsed (with expat) as far as asked."""

    def __init__(self, archive: zipfile.ZipFile, part: str) -> None:
        self._source = archive.open(part)
        self._parser = _expat(self)
        self._blank = bytearray()
        self._done = False
        self._text: list[str] | None = None
        self._phonetic = False
        self._current = ""

    def is_blank(self, index: int) -> bool:
        while index >= len(self._blank) and not self._done:
            chunk = self._source.read(_CHUNK // 4)
            self._parser.Parse(chunk, not chunk)
            if not chunk:
                self.close()
        return bool(self._blank[index])

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "si":
            self._current = ""
        elif local == "t" and not self._phonetic:
            self._text = []
        elif local == "rPh":
            self._phonetic = True

    def text(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "t" and self._text is not None:
            self._current += "".join(self._text)
            self._text = None
        elif local == "rPh":
            self._phonetic = False
        elif local == "si":
            self._blank.append(0 if self._current.strip() else 1)

    def close(self) -> None:
        self._done = True
        self._source.close()


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SI, _T, _R = (f"{{{_MAIN_NS}}}{tag}" for tag in ("si", "t", "r"))


def _string_text(node: Any) -> str:
    """A shared string's text as openpyxl gives it: plain text and runs joined, phonetic
    guides (``rPh``) left out, ``_x005F_`` escapes as openpyxl leaves them."""
    parts: list[str] = []
    for child in node:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.extend(t.text or "" for t in child if t.tag == _T)
    return "".join(parts).replace("x005F_", "")
