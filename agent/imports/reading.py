"""Reading a practice's file: CSV or XLSX in, numbered rows keyed by known columns out.

Practices export these files from whatever they use, so reading is forgiving about
form and strict about meaning. The format is told by content, not by name
(``agent.imports.csv_file``, ``agent.imports.xlsx_file``); row 1 is the header, whose
columns are recognised by ``agent.imports.header``; the file is bounded by
``agent.imports.row_limit``. Here each data row becomes a record:

* Row numbers are the ones a spreadsheet shows: the header is row 1, and blank rows
  are skipped but still counted, as is a CSV record whose quoted cell spans lines.
* Text holds no control characters: NUL and the like are refused with the file, row
  and column; tab and line breaks only in cells that hold a list.
* A CSV row with more values than the header has columns is refused: an unquoted
  delimiter inside a value would otherwise shift every value after it.

Nothing here knows what a column means; the field parsers and the per-kind modules do.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import closing
from os import PathLike
from pathlib import Path

from agent.imports.columns import ColumnSpec
from agent.imports.csv_file import DecodeCheck, csv_records
from agent.imports.errors import Problems, RowError, file_refused
from agent.imports.header import match_header
from agent.imports.row_limit import DEFAULT_MAX_ROWS, over_cap
from agent.imports.sheet import Cell, Layout, Record, Rows, Sheet, blank, clean
from agent.imports.xlsx_file import xlsx_records

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LIST = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {"\x00": "NUL", "\t": "a tab", "\n": "a line break", "\r": "a line break"}
_SHARED_TEXT = 32
_SHARED_TEXTS = 4096


def read_sheet(
    path: str | PathLike[str],
    specs: Sequence[ColumnSpec],
    *,
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
    records = (
        csv_records(source, file, max_rows) if is_csv else xlsx_records(source, file, max_rows)
    )
    with closing(records):
        return _read_records(records, file, digest, specs, max_rows=max_rows, is_csv=is_csv)


def _read_records(
    rows: Iterator[tuple[int, Sequence[Cell]]],
    file: str,
    digest: str,
    specs: Sequence[ColumnSpec],
    *,
    max_rows: int,
    is_csv: bool,
) -> Sheet:
    header = next(rows, None)
    if header is None:
        raise file_refused(
            file, "the file is empty; the first row must be a header naming the columns"
        )
    if blank(header[1]):
        raise file_refused(
            file, "row 1 is empty; the first row must be a header naming the columns", row=1
        )
    header_cells = list(header[1])
    found = match_header(header_cells, specs, file)
    lists = {spec.name: spec.multi for spec in specs}
    known = [(name, position, lists[name]) for name, position in found.positions.items()]
    layout = Layout(index={name: i for i, name in enumerate(found.positions)}, titles=found.titles)
    errors = Problems()
    records: list[Record] = []
    flags: dict[int, frozenset[str]] = {}
    shared: dict[str, str] = {}
    width = len(header_cells)
    for number, cells in rows:
        if blank(cells):
            continue
        if len(records) >= max_rows:
            # Counted before; a file that changed since is refused the same way.
            raise over_cap(file, number, max_rows)
        values: list[Cell] = [number]
        flagged: set[str] = set()
        for name, position, multi in known:
            value = clean(cells[position]) if position < len(cells) else None
            if isinstance(value, str):
                if bad := _control_problem(value, multi):
                    errors.append(RowError(file, number, layout.titles[name], bad))
                    flagged.add(name)
                if len(value) <= _SHARED_TEXT and len(shared) < _SHARED_TEXTS:
                    # Statuses, titles, portals repeat on every row: hold each once.
                    value = shared.setdefault(value, value)
            values.append(value)
        if is_csv and any(clean(c) is not None for c in cells[width:]):
            errors.append(
                RowError(
                    file,
                    number,
                    None,
                    f"the row has {len(cells)} values but the header names {width} columns; "
                    "a value containing the delimiter must be in double quotes",
                )
            )
        if flagged:
            flags[number] = frozenset(flagged)
        records.append(tuple(values))
    return Sheet(
        file=file,
        sha256=digest,
        columns=tuple(layout.index),
        rows=Rows(records, layout, flags),
        warnings=tuple(found.notes),
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
    return (
        f"contains a control character, {what}, at character {found.start() + 1}; "
        f"remove it{allowed}"
    )


def _is_xlsx(head: bytes, file: str) -> bool:
    if head.startswith(_OLE_MAGIC) or file.lower().endswith(".xls"):
        raise file_refused(
            file,
            "this is an old-style .xls workbook; save it as .xlsx or as CSV UTF-8 and try again",
        )
    return head.startswith(_ZIP_MAGIC)


def _digest(source: Path, file: str, *, check_text: bool) -> str:
    """The file's SHA-256, read in chunks; for a CSV, also proof that it decodes."""
    sha = hashlib.sha256()
    check = DecodeCheck(file) if check_text else None
    with source.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            if check is not None:
                check.feed(chunk)
        if check is not None:
            check.finish()
    return sha.hexdigest()
