"""Validating one row without stopping at its first problem, so a file is reported whole.

An import is validated whole (DESIGN.md, "Nothing half-imported"): every bad cell of
every row is named in one report. ``RowCheck`` applies the field parsers to one row
and turns each ``FieldError`` into a ``RowError`` where a person looks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from agent.imports.errors import FieldError, Problems, RowError
from agent.imports.fields import parse_text
from agent.imports.sheet import Cell, Row

T = TypeVar("T")


class RowCheck:
    """Parses one row's cells, recording each failure as a ``RowError`` and carrying on.

    A parser that fails returns ``None`` to the caller; ``ok`` tells whether the row is
    clean so far, and only clean rows are written. A failure names the column as the
    file's header wrote it, which is what the person sees in their spreadsheet. A
    cell already refused while reading (``Row.flagged``) fails without a second
    message.
    """

    def __init__(self, row: Row, file: str, errors: Problems | list[RowError]) -> None:
        self.row = row
        self.file = file
        self._errors = errors
        self._failures = 0

    @property
    def ok(self) -> bool:
        return self._failures == 0

    def fail(self, column: str | None, reason: str) -> None:
        self._failures += 1
        title = None if column is None else self.row.title(column)
        self._errors.append(RowError(self.file, self.row.number, title, reason))

    def value(
        self, column: str, parser: Callable[[Cell], T], *, required: bool = False
    ) -> T | None:
        """``parser`` applied to the column's cell; a blank cell is ``None`` unless required."""
        if column in self.row.flagged:
            self._failures += 1
            return None
        cell = self.row.get(column)
        if cell is None:
            if required:
                self.fail(column, "a value is required")
            return None
        try:
            return parser(cell)
        except FieldError as exc:
            self.fail(column, str(exc))
            return None

    def text(
        self, column: str, *, required: bool = False, max_length: int | None = None
    ) -> str | None:
        return self.value(
            column, lambda cell: parse_text(cell, max_length=max_length), required=required
        )
