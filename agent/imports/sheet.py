"""A file as read: numbered data rows keyed by the known columns, not yet validated.

A file may hold ``ACCESSRECON_IMPORT_MAX_ROWS`` rows, and every row is held until the
whole file is validated (DESIGN.md, "Nothing half-imported"), so a row is stored as
one tuple of its cells and made a ``Row`` only when looked at; where each column is
(``Layout``) is shared by every row of a file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from agent.imports.errors import Problems

Cell = str | int | float | bool | date | datetime | time | timedelta | None
"""One cell's value: text from a CSV, or whatever type openpyxl gives for an XLSX cell."""

NO_FLAGS: frozenset[str] = frozenset()


def clean(cell: Cell) -> Cell:
    """A cell as validation sees it: text stripped, and empty text ``None``."""
    if isinstance(cell, str):
        text = cell.strip()
        return text or None
    return cell


def blank(cells: Sequence[Cell]) -> bool:
    """Whether a row holds nothing; such rows are skipped but keep their number."""
    return all(clean(c) is None for c in cells)


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
    flagged: frozenset[str] = NO_FLAGS

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

    def __init__(
        self, records: list[Record], layout: Layout, flagged: Mapping[int, frozenset[str]]
    ) -> None:
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
        return Row(number, record[1:], self._layout, self._flagged.get(number, NO_FLAGS))


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
