"""A record kind's shape: its fields, and its rows written as canonical JSON lines fast.

A pack may hold millions of records, and turning each into canonical JSON through
``json.dumps(sort_keys=True)`` costs several times what hashing it does. A kind's
fields are known in advance, so each shape sorts its field names once, makes one
``%`` template of the whole line (``{"data":{…},"kind":…,"prev":"%s","seq":%d}``)
and writes each value with a converter picked by the column's type: strings through
the standard library's own JSON string encoder, numbers by ``repr``, times as UTC
ISO 8601. The bytes are exactly ``agent.security.canonical.canonical_json`` of the
record (the tests hold every kind to it), without building a dict per row.

With keys sorted, ``data`` comes first and ``kind``, ``prev`` and ``seq`` last, so a
verifier finds a line's chain link in its last bytes without parsing the line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from json.encoder import encode_basestring
from operator import call

from agent.security.canonical import jsonable

__all__ = ["Field", "RecordShape", "Value"]


class Value(Enum):
    """How a column's value is written; ``…_OR_NULL`` columns may be empty."""

    TEXT = "text"
    TEXT_OR_NULL = "text_or_null"
    INT = "int"
    INT_OR_NULL = "int_or_null"
    BOOL = "bool"
    BOOL_OR_NULL = "bool_or_null"
    TIME = "time"
    TIME_OR_NULL = "time_or_null"
    DATE_OR_NULL = "date_or_null"
    TEXT_LIST = "text_list"
    JSON = "json"


# The converters run once per value of millions of records, so each is one call: the
# nullable ones test for None themselves rather than wrap another converter.


def _time(value: datetime) -> str:
    """A time as the quoted ISO 8601 of its UTC instant (a naive time is taken as UTC),
    so the same moment reads the same from SQLite and PostgreSQL."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return '"' + value.isoformat() + '"'


def _time_or_null(value: datetime | None) -> str:
    if value is None:
        return "null"
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return '"' + value.isoformat() + '"'


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _int_or_null(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


def _date(value: date | None) -> str:
    return "null" if value is None else '"' + value.isoformat() + '"'


def _text_list(value: list[str] | None) -> str:
    if value is None:
        return "null"
    return "[" + ",".join(map(encode_basestring, value)) + "]"


#: ``canonical_json``'s options, made once rather than per value
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _json(value: object) -> str:
    return _ENCODER.encode(jsonable(value))


_BOOLEANS = {True: "true", False: "false"}
_BOOLEANS_OR_NULL: dict[bool | None, str] = {True: "true", False: "false", None: "null"}

CONVERTERS: dict[Value, Callable[[object], str]] = {
    Value.TEXT: encode_basestring,  # type: ignore[dict-item]
    Value.TEXT_OR_NULL: _text_or_null,  # type: ignore[dict-item]
    Value.INT: int.__repr__,
    Value.INT_OR_NULL: _int_or_null,  # type: ignore[dict-item]
    Value.BOOL: _BOOLEANS.__getitem__,  # type: ignore[dict-item]
    Value.BOOL_OR_NULL: _BOOLEANS_OR_NULL.__getitem__,  # type: ignore[dict-item]
    Value.TIME: _time,  # type: ignore[dict-item]
    Value.TIME_OR_NULL: _time_or_null,  # type: ignore[dict-item]
    Value.DATE_OR_NULL: _date,  # type: ignore[dict-item]
    Value.TEXT_LIST: _text_list,  # type: ignore[dict-item]
    Value.JSON: _json,
}


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a record's ``data``: its name, and how its value is written."""

    name: str
    value: Value


class RecordShape:
    """The fields of one kind of record, in key order, and its line template.

    Rows given to ``line`` hold the values in ``fields`` order (sorted by name): the
    gathering queries select their columns in that order.
    """

    def __init__(self, kind: str, fields: Sequence[Field]) -> None:
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{kind}: a field is named twice")
        self.kind = kind
        self.fields = tuple(sorted(fields, key=lambda f: f.name))
        self._converters = tuple(CONVERTERS[f.value] for f in self.fields)
        keys = ",".join(encode_basestring(f.name).replace("%", "%%") + ":%s" for f in self.fields)
        self._template = (
            '{"data":{'
            + keys
            + '},"kind":'
            + encode_basestring(kind).replace("%", "%%")
            + ',"prev":"%s","seq":%d}'
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def line(self, row: Sequence[object], prev: str, seq: int) -> str:
        """The record's canonical JSON (without the line break)."""
        return self._template % (*map(call, self._converters, row), prev, seq)

    def data(self, row: Sequence[object]) -> dict[str, object]:
        """The row as the record's ``data`` (for summaries and tests; not the fast path)."""
        return dict(zip(self.names, row, strict=True))
