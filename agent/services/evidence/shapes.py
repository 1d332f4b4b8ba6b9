"""A record kind's shape: its fields, and a batch of its rows as canonical JSON, fast.

A pack may hold millions of records, and turning each into canonical JSON through
``json.dumps(sort_keys=True)`` costs several times what hashing it does. A kind's
fields are known in advance, so each shape sorts its field names once and encodes a
batch of rows (``encode``) as their records' ``data`` objects, framed for the chain
(``lines.frame_batch``), in one of two ways that give the same bytes:

* **fast**: each row made a dict by a function written for the shape
  (``{"email": v0, "id": v1} for (v0, v1) in rows``) and the batch encoded by
  ``orjson`` in one call, a line break between each two objects. It is taken only
  when every value of the batch is of the exact type its column declares, with times
  naive or in UTC: then ``orjson`` writes what the converters below write. A JSON
  value goes in as bytes already encoded (``_json_fragment``): by ``orjson`` when it
  holds no float (which ``orjson`` spells its own way), else by the standard library;
* **by converters**: a ``%`` template of the object and one converter per column:
  strings through the standard library's JSON string encoder, numbers by ``repr``,
  times as UTC ISO 8601. Any other batch goes this way, and a value no converter
  takes fails here as it always did.

Either way the bytes are ``agent.security.canonical.canonical_json`` of the data
(a property test holds both ways to it). ``lines`` puts the objects into lines on
the chain; with keys sorted, ``data`` comes first and ``kind``, ``prev`` and ``seq``
last, so a verifier finds a line's chain link in its last bytes without parsing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from itertools import chain
from json.encoder import encode_basestring
from operator import attrgetter, call
from types import NoneType

import orjson

from agent.security.canonical import jsonable
from agent.services.evidence.lines import frame_batch

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


#: the exact types the fast way takes in each kind of column (``None``: checked otherwise;
#: a JSON value goes through ``_json_fragment`` either way)
_TAKES: dict[Value, frozenset[type] | None] = {
    Value.TEXT: None,  # str.join takes only strings, four times as fast
    Value.TEXT_OR_NULL: frozenset({str, NoneType}),
    Value.INT: frozenset({int}),
    Value.INT_OR_NULL: frozenset({int, NoneType}),
    Value.BOOL: frozenset({bool}),
    Value.BOOL_OR_NULL: frozenset({bool, NoneType}),
    Value.TIME: frozenset({datetime}),
    Value.TIME_OR_NULL: frozenset({datetime, NoneType}),
    Value.DATE_OR_NULL: frozenset({date, NoneType}),
    Value.TEXT_LIST: frozenset({list, NoneType}),
    Value.JSON: None,
}
_TIMES = (Value.TIME, Value.TIME_OR_NULL)
_NAIVE_OR_UTC = frozenset({None, UTC})
_STRINGS = frozenset({str})
_TZINFO = attrgetter("tzinfo")
#: what orjson writes between two objects of a batch, which it separates by commas
_LINE_BREAK = orjson.Fragment(b"\n")


_PLAIN_SCALARS = (str, int, NoneType)  # bool is an int


def _plain(value: object) -> bool:
    """Whether a JSON value holds only strings, integers, booleans and nulls, in lists and
    string-keyed dicts: what ``orjson`` (keys sorted) writes as the standard library does."""
    kind = type(value)
    if kind in _PLAIN_SCALARS or kind is bool:
        return True
    if kind is list:
        return all(map(_plain, value))  # type: ignore[call-overload]
    if kind is dict:
        items = value.items()  # type: ignore[attr-defined]
        return all(type(k) is str and _plain(v) for k, v in items)
    return False


def _json_fragment(value: object) -> orjson.Fragment:
    """A JSON value's canonical bytes, for orjson to put in as they are: by orjson where
    the value is plain (``_plain``), else by the standard library (floats, times, …)."""
    if _plain(value):
        try:
            return orjson.Fragment(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
        except orjson.JSONEncodeError:  # an int beyond 64 bits, a string not UTF-8
            pass
    return orjson.Fragment(_json(value))


Rows = Sequence[Sequence[object]]


def _dict_maker(fields: Sequence[Field]) -> Callable[[Rows], list[dict[str, object]]]:
    """A function making each row a dict keyed in field order, written out as source
    (``[{"a": v0, "b": v1} for (v0, v1,) in rows]``): twice as fast as
    ``dict(zip(names, row))``, which at a million rows is a third of the hashing."""
    if not fields:
        return lambda rows: [{} for _ in rows]
    names = [f"v{i}" for i in range(len(fields))]
    items = ", ".join(
        f"{field.name!r}: " + (f"_fragment({v})" if field.value is Value.JSON else v)
        for field, v in zip(fields, names, strict=True)
    )
    source = f"def dicts(rows):\n    return [{{{items}}} for ({', '.join(names)},) in rows]\n"
    namespace: dict[str, object] = {"_fragment": _json_fragment}
    # The source is made here from the field names, each written by repr(): nothing else.
    exec(source, namespace)  # noqa: S102
    return namespace["dicts"]  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a record's ``data``: its name, and how its value is written."""

    name: str
    value: Value


class RecordShape:
    """The fields of one kind of record, in key order, and how a batch of its rows is encoded.

    Rows hold the values in ``fields`` order (sorted by name): the gathering queries
    select their columns in that order.
    """

    def __init__(self, kind: str, fields: Sequence[Field]) -> None:
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{kind}: a field is named twice")
        self.kind = kind
        self.fields = tuple(sorted(fields, key=lambda f: f.name))
        self._converters = tuple(CONVERTERS[f.value] for f in self.fields)
        keys = ",".join(encode_basestring(f.name).replace("%", "%%") + ":%s" for f in self.fields)
        self._template = "{" + keys + "}"
        self._takes = tuple(_TAKES[f.value] for f in self.fields)
        self._texts = tuple(i for i, f in enumerate(self.fields) if f.value is Value.TEXT)
        self._times = tuple(i for i, f in enumerate(self.fields) if f.value in _TIMES)
        self._lists = tuple(i for i, f in enumerate(self.fields) if f.value is Value.TEXT_LIST)
        self._dicts = _dict_maker(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def data_json(self, row: Sequence[object]) -> str:
        """The canonical JSON of the row's ``data`` object, by the converters."""
        return self._template % tuple(map(call, self._converters, row))

    def encode(self, rows: Rows) -> bytes:
        """The rows' ``data`` objects as canonical JSON, framed as a batch
        (``lines.frame_batch``)."""
        fast = self.encode_fast(rows)
        if fast is not None:
            return fast
        return frame_batch([self.data_json(row).encode("utf-8") for row in rows])

    def encode_fast(self, rows: Rows) -> bytes | None:
        """``encode`` the fast way, or ``None`` where a value is not of its column's type."""
        if not rows:
            return b""
        if not self._takes_all(rows):
            return None
        framed: list[object] = [_LINE_BREAK] * (2 * len(rows) - 1)
        framed[::2] = self._dicts(rows)
        try:
            return orjson.dumps(framed, option=orjson.OPT_NAIVE_UTC)
        except orjson.JSONEncodeError:  # an int beyond 64 bits, a string not UTF-8
            return None

    def _takes_all(self, rows: Rows) -> bool:
        columns = list(zip(*rows, strict=False))
        if len(columns) != len(self.fields):
            return False
        for column, takes in zip(columns, self._takes, strict=True):
            if takes is not None and not takes.issuperset(map(type, column)):
                return False
        try:
            for i in self._texts:
                "".join(columns[i])
        except TypeError:
            return False
        for i in self._times:
            if not _NAIVE_OR_UTC.issuperset(map(_TZINFO, filter(None, columns[i]))):
                return False
        for i in self._lists:
            items = chain.from_iterable(filter(None, columns[i]))
            if not _STRINGS.issuperset(map(type, items)):
                return False
        return True

    def data(self, row: Sequence[object]) -> dict[str, object]:
        """The row as the record's ``data`` (for summaries and tests; not the fast path)."""
        return dict(zip(self.names, row, strict=True))
