"""Reading a CSV file: its text checked to decode, then its records streamed.

Practices export CSV from whatever they use (a practice manager, Excel, a Google
Sheet), so the form is read as it comes: UTF-8 with or without a byte-order mark
(UTF-16 with a BOM, Excel's "Unicode text", is read too), and the delimiter (``,``,
``;`` or tab) sniffed from the header line, because a European Excel writes ``;``.
Each record is one spreadsheet row, numbered as a spreadsheet shows it, so a quoted
cell spanning lines still counts as one row.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Generator, Sequence
from pathlib import Path

from agent.imports.errors import ImportRejected, file_refused
from agent.imports.row_limit import count_rows
from agent.imports.sheet import Cell

_DELIMITERS = (",", ";", "\t")


def encoding_of(start: bytes) -> str:
    """The encoding a file's first bytes announce: UTF-16 by its BOM, else UTF-8."""
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


class DecodeCheck:
    """Proof that a CSV decodes, fed its bytes in order as they are hashed.

    Decoding is checked before any row is read, so that a bad byte is reported with
    its line whatever the reader would have buffered.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self._decoder: codecs.IncrementalDecoder | None = None
        self._lines = 0

    def feed(self, chunk: bytes) -> None:
        if self._decoder is None:
            self._decoder = codecs.getincrementaldecoder(encoding_of(chunk))()
        self._decode(self._decoder, chunk, final=False)
        self._lines += chunk.count(b"\n")

    def finish(self) -> None:
        if self._decoder is not None:
            self._decode(self._decoder, b"", final=True)

    def _decode(self, decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool) -> None:
        try:
            decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            raise _decode_error(self.file, exc, self._lines) from exc


def _decode_error(file: str, exc: UnicodeDecodeError, lines: int) -> ImportRejected:
    """The refusal of a file that does not decode; ``lines`` were decoded before the chunk."""
    if "16" in exc.encoding:
        return file_refused(file, f"starts like UTF-16 text but is not: {exc.reason}")
    # The bytes the decoder held back from the last chunk are an unfinished character,
    # never a line break, so the chunk's own line breaks complete the count.
    data = bytes(exc.object)
    line = lines + data[: exc.start].count(b"\n") + 1
    byte = data[exc.start : exc.start + 1].hex().upper()
    return file_refused(
        file,
        f"is not UTF-8 text (byte 0x{byte} on line {line}); "
        'in Excel use "Save As" > "CSV UTF-8", or save as .xlsx',
    )


def csv_records(
    source: Path, file: str, max_rows: int
) -> Generator[tuple[int, Sequence[Cell]], None, None]:
    """The CSV's records, read as a stream after a first pass that counts them."""
    count_rows(_csv_stream(source, file), file, max_rows)
    yield from _csv_stream(source, file)


def _csv_stream(source: Path, file: str) -> Generator[tuple[int, Sequence[Cell]], None, None]:
    """The CSV's records as read; each record is one spreadsheet row."""
    with source.open("rb") as probe:
        encoding = encoding_of(probe.read(4))
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
                raise file_refused(file, f"cannot be read as CSV: {exc}", row=number + 1) from exc
            number += 1
            yield number, list(record)
