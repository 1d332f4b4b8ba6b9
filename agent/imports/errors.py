"""Why an import was refused: every problem of a file, found before anything is written.

An import is validated whole (DESIGN.md, "Nothing half-imported"), so the user gets
one report naming every bad cell rather than fixing a file one error at a time. Each
problem points where a person looks in a spreadsheet: the file, the row number as the
spreadsheet shows it (the header is row 1) and the column. The hierarchy::

    ImportRejected          the file was refused; ``errors`` holds the first problems
    FieldError(ValueError)  one value did not parse; caught and turned into a RowError

A file of a million bad rows must not cost a million messages (in memory, in the
API's answer, on a screen): ``Problems`` counts every problem but keeps only the
first ``ERROR_LIMIT`` in file order, and ``ImportRejected`` carries those plus the
total ("... and 12,345 more").

Operating-system errors (file not found, permission denied) are not caught: they say
nothing about the file's content.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

ERROR_LIMIT = 100
"""How many problems a rejection keeps and shows; the rest are only counted."""


class FieldError(ValueError):
    """One value that cannot be used; the message is the reason, in the user's terms."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one place of a file.

    ``row`` is ``None`` for a problem of the whole file (not readable, no rows);
    ``column`` is ``None`` for a problem of a whole row.
    """

    file: str
    row: int | None
    column: str | None
    reason: str

    @property
    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts) if parts else "file"

    def __str__(self) -> str:
        return f"{self.file} {self.where}: {self.reason}"


def _sort_key(error: RowError) -> int:
    """Whole-file problems first, then by row; a row's problems keep column order."""
    return error.row if error.row is not None else 0


class Problems:
    """The problems found in a file: all counted, the first ``limit`` in file order kept.

    It stands where a list of ``RowError`` would (``append``, ``extend``, ``len``,
    truth, iteration), so validation code reads the same while a file with a bad value
    on every one of its rows costs a hundred messages, not a row's worth each.
    """

    def __init__(self, errors: Iterable[RowError] = (), *, limit: int = ERROR_LIMIT) -> None:
        self.limit = limit
        self.total = 0
        self._kept: list[RowError] = []
        if isinstance(errors, Problems):
            # A copy counts what the other counted, not only what it kept.
            self._kept = list(errors.kept)
            self.total = errors.total
            self._trim()
        else:
            self.extend(errors)

    def append(self, error: RowError) -> None:
        self.total += 1
        self._kept.append(error)
        if len(self._kept) >= 2 * self.limit:
            self._trim()

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.append(error)

    def _trim(self) -> None:
        # sorted() is stable: problems of one row keep the order they were found in.
        self._kept = sorted(self._kept, key=_sort_key)[: self.limit]

    @property
    def kept(self) -> tuple[RowError, ...]:
        self._trim()
        return tuple(self._kept)

    def __len__(self) -> int:
        return self.total

    def __bool__(self) -> bool:
        return self.total > 0

    def __iter__(self) -> Iterator[RowError]:
        return iter(self.kept)


class ImportRejected(Exception):
    """A file that was refused whole; nothing in the database was changed.

    ``errors`` holds at most ``ERROR_LIMIT`` problems, the first in file order;
    ``total`` counts them all.
    """

    def __init__(self, errors: Iterable[RowError], total: int | None = None) -> None:
        problems = errors if isinstance(errors, Problems) else Problems(errors)
        kept = problems.kept
        if not kept:
            raise ValueError("ImportRejected needs at least one error")
        self.errors: tuple[RowError, ...] = kept
        self.total: int = max(problems.total, total or 0)
        super().__init__(self.report())

    def __reduce__(self) -> tuple[type[ImportRejected], tuple[tuple[RowError, ...], int]]:
        return (type(self), (self.errors, self.total))

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(e.file for e in self.errors))

    @property
    def more(self) -> int:
        """How many problems were counted but not kept."""
        return self.total - len(self.errors)

    def report(self, limit: int | None = ERROR_LIMIT) -> str:
        """A multi-line report: a summary line, then one line per problem kept."""
        count = self.total
        noun = "problem" if count == 1 else "problems"
        files = " and ".join(self.files)
        lines = [f"{files} was not imported: {count:,} {noun}; nothing was changed."]
        shown = self.errors if limit is None else self.errors[:limit]
        lines.extend(f"  {e.where}: {e.reason}" for e in shown)
        if len(shown) < count:
            lines.append(f"  ... and {count - len(shown):,} more {noun} not shown.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def file_refused(file: str, reason: str, *, row: int | None = None) -> ImportRejected:
    """The refusal of a file for one problem that stops it being read at all."""
    return ImportRejected([RowError(file, row, None, reason)])
