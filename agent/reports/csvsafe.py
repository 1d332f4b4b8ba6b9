"""CSV cells a spreadsheet will not evaluate, and the CSV files the reports write.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel and LibreOffice; such text gets a leading apostrophe,
the spreadsheet convention for "this is text" (OWASP's advice for CSV injection).

Report CSVs start with a UTF-8 byte order mark: without it Excel reads the file
in the machine's legacy code page and turns "Kōwhai" into mojibake. Times are
written as ``YYYY-MM-DD HH:MM:SS`` in UTC, which Excel and LibreOffice read as
dates; a CSV holds one table and nothing else, so it can be re-imported.

``csv_bytes`` builds a small CSV in memory (a download, the command line's output):
its values are written as the caller formatted them, through the same formula guard.

A CSV keeps the stored codes (``leaver_access``, ``qbo``): scripts filter and join on
them. ``labelled`` adds, after the existing columns, one column of words per coded
column (``portal_label``: "QuickBooks Online"), the words the workbooks show, so a
person opening the file reads it without a key and no script reading a column by its
position is thrown off.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

from agent.reports.common import naive_utc
from agent.reports.words import label

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_value(value: object) -> object:
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def csv_cell(value: object) -> object:
    """One value as a CSV cell: dates in ISO form, text neutralised, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{naive_utc(value):%Y-%m-%d %H:%M:%S}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return safe_csv_value(str(value))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a header and rows (streamed, never held) to ``path``; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_cell(h) for h in header])
            for row in rows:
                writer.writerow([csv_cell(v) for v in row])
                count += 1
    except BaseException:
        path.unlink(missing_ok=True)  # whole or absent, never a truncated file
        raise
    return count


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool) -> bytes:
    """Header and rows as UTF-8 CSV bytes, formula-safe.

    ``bom`` for a file a person opens in Excel (see above); a stream another program
    reads (a pipe, a diff) is better without it.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([safe_csv_value(v) for v in row] for row in rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def labelled(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    coded: Sequence[str],
    *,
    suffix: str,
) -> tuple[list[str], Iterator[list[object]]]:
    """``header`` and ``rows`` with a column of words appended for each ``coded`` column.

    The new columns are named after their code column plus ``suffix`` (``portal`` and
    ``portal_label``; "Class" and "Class label"), in the order ``coded`` gives. An
    empty code has an empty label. Rows are streamed, never held.
    """
    positions = [header.index(name) for name in coded]

    def words(row: Sequence[object]) -> list[object]:
        return [*row, *(_words(row[i]) for i in positions)]

    return [*header, *(name + suffix for name in coded)], (words(row) for row in rows)


def _words(code: object) -> str:
    return "" if code is None or code == "" else label(code)
