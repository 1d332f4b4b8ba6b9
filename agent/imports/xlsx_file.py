"""Reading an XLSX workbook: the first worksheet's rows, streamed and bounded.

The first worksheet is read with openpyxl in read-only mode, values as cached
(formulas give their last computed value); date cells arrive as dates. Its rows are
counted first by the cheap pass of ``agent.imports.xlsx_count``, so a file over the
limit is refused before any cell is made. The shared-strings table (every text of
the workbook, which Excel keeps in one part) is parsed only as far as the rows read
refer to it, never loaded whole up front.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, Any

from agent.imports.errors import ImportRejected, file_refused
from agent.imports.row_limit import count_rows
from agent.imports.sheet import Cell
from agent.imports.xlsx_count import row_stream

_UNREADABLE: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    SyntaxError,  # ElementTree's ParseError
)
_SHEET_UNREADABLE = "the first worksheet cannot be read"

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SI, _T, _R = (f"{{{_MAIN_NS}}}{tag}" for tag in ("si", "t", "r"))


def xlsx_records(
    source: Path, file: str, max_rows: int
) -> Generator[tuple[int, tuple[Cell, ...]], None, None]:
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
                raise _refused(file, "is not a readable .xlsx workbook", exc) from exc
        try:
            if not workbook.worksheets:
                raise file_refused(file, "the workbook has no worksheet")
            sheet = workbook.worksheets[0]
            try:
                count_rows(
                    row_stream(workbook._archive, sheet._worksheet_path, strings_part),
                    file,
                    max_rows,
                )
            except unreadable as exc:
                raise _refused(file, _SHEET_UNREADABLE, exc) from exc
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
                    raise _refused(file, _SHEET_UNREADABLE, exc) from exc
                yield number, values
        finally:
            workbook.close()


def _refused(file: str, what: str, exc: BaseException) -> ImportRejected:
    """The refusal of a workbook openpyxl could not read, saying what went wrong without
    openpyxl's wrapping (which names the server's temp path)."""
    cause = exc.__cause__ if isinstance(exc, ValueError) and exc.__cause__ else exc
    reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return file_refused(file, f"{what} ({reason})")


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
        self._events: Iterator[tuple[str, Any]] = iterparse(self._source, events=("start", "end"))
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
