"""The cheap first pass over an XLSX worksheet: which rows hold a value, from its XML.

Before any row is kept, a worksheet's rows are counted against ``max_rows``
(``agent.imports.row_limit``). Counting reads the sheet's XML with expat and makes no
cell or element objects; the shared strings (every text of the workbook, which Excel
keeps in one part) are looked at only to tell a blank one (``" "``) from text, one bit
each, and only as far as the rows read refer to them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Generator, Sequence
from typing import IO, Any

from agent.imports.sheet import Cell

_PART_CHUNK = 256 * 1024
_FILLED: tuple[Cell, ...] = ("filled",)
_EMPTY: tuple[Cell, ...] = ()
_LOCAL_NAMES: dict[str, str] = {}


def _local(name: str) -> str:
    """An XML name without its namespace prefix (``x:row`` is ``row``)."""
    local = _LOCAL_NAMES.get(name)
    if local is None:
        local = _LOCAL_NAMES[name] = name.rpartition(":")[2]
    return local


class _TextPass:
    """Expat callbacks over one part of a workbook, gathering an element's text on demand.

    A subclass says which elements' text it wants (``gather`` when one opens) and takes
    it when the element closes (``gathered``). The text of a phonetic guide (``rPh``)
    is never a cell's, so ``phonetic`` tells whether the parser is inside one.
    """

    def __init__(self) -> None:
        from xml.parsers import expat

        self.phonetic = False
        self._text: list[str] | None = None
        self._parser: Any = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._data

    def parse_next(self, source: IO[bytes]) -> bool:
        """Parse the next chunk of ``source``; ``False`` once all of it has been parsed."""
        chunk = source.read(_PART_CHUNK)
        self._parser.Parse(chunk, not chunk)
        return bool(chunk)

    def opened(self, local: str, attrs: dict[str, str]) -> None:
        raise NotImplementedError

    def closed(self, local: str) -> None:
        raise NotImplementedError

    def gather(self) -> None:
        self._text = []

    def gathered(self) -> str | None:
        """The text gathered since ``gather`` (``None`` if it was not called), and stop."""
        if self._text is None:
            return None
        text = "".join(self._text)
        self._text = None
        return text

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "rPh":
            self.phonetic = True
        else:
            self.opened(local, attrs)

    def _end(self, name: str) -> None:
        local = _local(name)
        if local == "rPh":
            self.phonetic = False
        else:
            self.closed(local)

    def _data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


class _BlankStrings(_TextPass):
    """Which shared strings are blank, one bit each, parsed as far as asked."""

    def __init__(self, archive: zipfile.ZipFile, part: str) -> None:
        super().__init__()
        self._source = archive.open(part)
        self._blank = bytearray()
        self._done = False
        self._current = ""

    def is_blank(self, index: int) -> bool:
        while index >= len(self._blank) and not self._done:
            if not self.parse_next(self._source):
                self.close()
        return bool(self._blank[index])

    def opened(self, local: str, attrs: dict[str, str]) -> None:
        if local == "si":
            self._current = ""
        elif local == "t" and not self.phonetic:
            self.gather()

    def closed(self, local: str) -> None:
        if local == "t":
            text = self.gathered()
            if text is not None:
                self._current += text
        elif local == "si":
            self._blank.append(0 if self._current.strip() else 1)

    def close(self) -> None:
        self._done = True
        self._source.close()


class _RowScan(_TextPass):
    """Notes, for each ``row`` of a worksheet, whether it holds a value.

    A value is a cell's ``v`` (a shared string only if it is not blank, text only if
    not blank, anything else always) or inline text that is not blank, which is what
    reading the row with openpyxl would give.
    """

    def __init__(self, blanks: _BlankStrings | None) -> None:
        super().__init__()
        self.blanks = blanks
        self.done: list[tuple[int, bool]] = []
        self._number = 0
        self._filled = False
        self._kind = "n"
        self._inline = False

    def opened(self, local: str, attrs: dict[str, str]) -> None:
        if local == "row":
            given = attrs.get("r")
            self._number = int(given) if given else self._number + 1
            self._filled = False
        elif self._filled:
            return  # the row is known to hold a value; the rest need not be read
        elif local == "c":
            self._kind = attrs.get("t", "n")
        elif local == "v" or (local == "t" and self._inline and not self.phonetic):
            self.gather()
        elif local == "is":
            self._inline = True

    def closed(self, local: str) -> None:
        if local in ("v", "t"):
            text = self.gathered()
            if text is not None and not self._filled:
                self._filled = self._value(text) if local == "v" else bool(text.strip())
        elif local == "is":
            self._inline = False
        elif local == "row":
            self.done.append((self._number, self._filled))

    def _value(self, text: str) -> bool:
        if self._kind == "s":
            return self.blanks is None or not self.blanks.is_blank(int(text))
        if self._kind in ("str", "inlineStr"):
            return bool(text.strip())
        return bool(text)


def row_stream(
    archive: zipfile.ZipFile, sheet_part: str, strings_part: str | None
) -> Generator[tuple[int, Sequence[Cell]], None, None]:
    """Each row of a worksheet as its number and whether it holds a value, from the XML.

    Much cheaper than reading cells: no values are made, and shared strings are
    looked at only to tell a blank one from text. A row is numbered as openpyxl
    numbers it (its ``r``, else one after the last); one that holds a value comes
    with one non-blank cell, one that holds none with no cells.
    """
    blanks = _BlankStrings(archive, strings_part) if strings_part else None
    scan = _RowScan(blanks)
    try:
        with archive.open(sheet_part) as source:
            more = True
            while more:
                more = scan.parse_next(source)
                for number, filled in scan.done:
                    yield number, (_FILLED if filled else _EMPTY)
                scan.done.clear()
    finally:
        if blanks is not None:
            blanks.close()
