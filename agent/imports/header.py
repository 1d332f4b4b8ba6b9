"""Recognising a file's columns from its header row, as the practice's export named them.

Column names match ignoring case, surrounding spaces and spaces, ``_`` or ``-``
inside (``Left On``, ``left_on`` and ``LEFTON`` are one column), and each column may
be written under any of its documented aliases (``primary_email`` is ``emails``). A
missing required column is an error, reported once for the file rather than once per
row. An unknown column is ignored with a warning, unless its name suggests it holds
something the import reads (a column ``Xero Tenant`` in a client list): then it is an
error naming it, because ignoring it would import the file "successfully" with that
data silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from agent.imports.columns import ColumnSpec
from agent.imports.errors import ImportRejected, RowError
from agent.imports.sheet import Cell


def column_key(header: str) -> str:
    """The form of a column name that its spellings share (``Left On`` is ``left_on``)."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", header)).casefold()


@dataclass(frozen=True, slots=True)
class Header:
    """The known columns a header names: each one's position and title, and the notes
    (warnings) on the columns it names that the import does not read."""

    positions: dict[str, int]
    titles: dict[str, str]
    notes: list[str]


def match_header(header: Sequence[Cell], specs: Sequence[ColumnSpec], file: str) -> Header:
    """Each known column's place in ``header``; ``ImportRejected`` naming every problem
    (a missing required column, one named twice, an unknown one that looks known)."""
    by_key: dict[str, ColumnSpec] = {}
    for column in specs:
        for name in column.names:
            by_key.setdefault(column_key(name), column)
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        title = "" if cell is None else str(cell).strip()
        if not title:
            continue
        key = column_key(title)
        spec = by_key.get(key)
        if spec is None:
            suspects = [s for s in specs if any(word in key for word in s.watch)]
            if suspects:
                errors.append(_suspect_error(file, title, suspects))
            else:
                unknown.append(title)
        elif spec.name in positions:
            errors.append(
                RowError(
                    file,
                    1,
                    title,
                    f"two columns, {titles[spec.name]!r} and {title!r}, are both {spec.name}; "
                    "keep one",
                )
            )
        else:
            positions[spec.name] = index
            titles[spec.name] = title
    found = ", ".join(str(c).strip() for c in header if c is not None and str(c).strip())
    for spec in specs:
        if spec.required and spec.name not in positions:
            also = f"; also read as {_either(spec.aliases)}" if spec.aliases else ""
            errors.append(
                RowError(
                    file,
                    1,
                    spec.name,
                    f"required column is missing (the header has: {found}{also})",
                )
            )
    if errors:
        raise ImportRejected(errors)
    known = ", ".join(spec.name for spec in specs)
    notes = [
        f"column {title!r} is not used and was ignored (columns read: {known})" for title in unknown
    ]
    return Header(positions, titles, notes)


def _suspect_error(file: str, title: str, suspects: Sequence[ColumnSpec]) -> RowError:
    names = _either([s.name for s in suspects])
    return RowError(
        file,
        1,
        title,
        f"this column is not one the import reads, but its name suggests it is {names}; "
        f"ignoring it would drop its data, so rename it to {names} (see the README's "
        "Import formats) or remove it",
    )


def _either(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"
