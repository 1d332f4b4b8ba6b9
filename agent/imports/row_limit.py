"""How many data rows one file may hold, and the cheap pass that refuses a longer file.

Files are read as streams and bounded. A first, cheap pass counts the data rows and
keeps none: at the first row over ``max_rows`` the file is refused with one error, not
a million, having cost the reading of ``max_rows`` rows and almost no memory. Only
then are the rows read and kept.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import closing

from agent.imports.errors import ImportRejected, RowError
from agent.imports.sheet import Cell, blank

DEFAULT_MAX_ROWS = 200_000
"""Data rows one file may hold (``ACCESSRECON_IMPORT_MAX_ROWS``); far above any practice."""

MAX_ROWS_SETTING = "ACCESSRECON_IMPORT_MAX_ROWS"


def over_cap(file: str, number: int, max_rows: int) -> ImportRejected:
    """The refusal of a file at row ``number``, the first data row past ``max_rows``."""
    return ImportRejected(
        [
            RowError(
                file,
                number,
                None,
                f"{file} has more than {max_rows:,} rows; the limit is {max_rows:,} "
                f"({MAX_ROWS_SETTING})",
            )
        ]
    )


def count_rows(
    rows: Generator[tuple[int, Sequence[Cell]], None, None], file: str, max_rows: int
) -> None:
    """Refuse the file at its first data row over ``max_rows``, holding nothing read.

    This pass comes before the one that keeps the rows, so a file that is refused for
    its length costs the reading of ``max_rows`` rows and no memory for them.
    """
    with closing(rows):
        count = 0
        for number, cells in rows:
            if number <= 1 or blank(cells):  # row 1 is the header
                continue
            count += 1
            if count > max_rows:
                raise over_cap(file, number, max_rows)
