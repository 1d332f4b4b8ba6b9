"""A kind of evidence record: its file in the pack, its shape, and the query that reads it.

Each kind's query selects its columns in the shape's key order (``RecordShape``), so a
row is written as it comes, is ordered by id so a pack is the same however often it
is built, and is read in batches (``yield_per``) so memory stays flat however long
the period. The kinds themselves are in ``agent.services.evidence.records``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from agent.services.evidence.period import Period
from agent.services.evidence.shapes import Field, RecordShape, Value

__all__ = ["BATCH", "Query", "RecordKind", "alive_in", "happened_in", "make_kind", "rows_of"]

BATCH = 2_000

Query = Any  # a SQLAlchemy select of the kind's columns


@dataclass(frozen=True, slots=True)
class RecordKind:
    """One kind of record: its file in the pack, its shape and how its rows are read."""

    name: str
    file: str
    shape: RecordShape
    columns: tuple[Any, ...]
    narrow: Callable[[Query, Period], Query]


def make_kind(
    name: str,
    file: str,
    fields: dict[str, tuple[Value, Any]],
    narrow: Callable[[Query, Period], Query],
) -> RecordKind:
    shape = RecordShape(name, [Field(key, value) for key, (value, _) in fields.items()])
    columns = tuple(fields[f.name][1] for f in shape.fields)
    return RecordKind(name, file, shape, columns, narrow)


def rows_of(session: Session, kind: RecordKind, period: Period) -> Iterator[Sequence[object]]:
    """The kind's rows for the period, in id order, read a batch at a time."""
    query = kind.narrow(select(*kind.columns), period)
    yield from session.exec(query.execution_options(yield_per=BATCH))


def happened_in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(col(column) >= period.begins, col(column) < period.ends)


def alive_in(started: Any, ended: Any, period: Period) -> ColumnElement[bool]:
    return and_(col(started) < period.ends, or_(col(ended).is_(None), col(ended) >= period.begins))
