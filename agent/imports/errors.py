"""Why an import was refused: every problem of a file, found before anything is written.

An import is validated whole (DESIGN.md, "Nothing half-imported"), so the user gets
one report naming every bad cell rather than fixing a file one error at a time. Each
problem points where a person looks in a spreadsheet: the file, the row number as the
spreadsheet shows it (the header is row 1) and the column. The hierarchy::

    ImportRejected          the file was refused; ``errors`` holds every RowError
    FieldError(ValueError)  one value did not parse; caught and turned into a RowError

Operating-system errors (file not found, permission denied) are not caught: they say
nothing about the file's content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REPORT_LIMIT = 200
"""How many problems ``str(ImportRejected)`` lists before summarising the rest."""


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


class ImportRejected(Exception):
    """A file that was refused whole; nothing in the database was changed."""

    def __init__(self, errors: Iterable[RowError]) -> None:
        ordered = sorted(errors, key=_sort_key)
        if not ordered:
            raise ValueError("ImportRejected needs at least one error")
        self.errors: tuple[RowError, ...] = tuple(ordered)
        super().__init__(self.report())

    def __reduce__(self) -> tuple[type[ImportRejected], tuple[tuple[RowError, ...]]]:
        return (type(self), (self.errors,))

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(e.file for e in self.errors))

    def report(self, limit: int | None = REPORT_LIMIT) -> str:
        """A multi-line report: a summary line, then one line per problem."""
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        files = " and ".join(self.files)
        lines = [f"{files} was not imported: {count} {noun}; nothing was changed."]
        shown = self.errors if limit is None else self.errors[:limit]
        lines.extend(f"  {e.where}: {e.reason}" for e in shown)
        if len(shown) < count:
            lines.append(f"  ... and {count - len(shown)} more {noun} not shown.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()
