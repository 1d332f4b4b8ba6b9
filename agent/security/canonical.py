"""Canonical JSON: the one byte form a record is hashed in.

A hash chain is only checkable by someone else if both sides turn a record into the
same bytes. The rules are those of the stand-alone verifier in ``docs/`` and need
nothing beyond the standard library: keys sorted, no whitespace, UTF-8 without
escaping non-ASCII, no NaN or infinity. Callers turn dates and times into ISO 8601
strings first (``jsonable``), so a value's form never depends on a database driver.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum

__all__ = ["GENESIS", "canonical_json", "chain_hash", "jsonable"]

#: The "previous hash" of the first record of a chain.
GENESIS = "0" * 64


def jsonable(value: object) -> object:
    """``value`` with dates, times, enums, tuples and sets in their JSON form."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [jsonable(v) for v in value]
    return value


def canonical_json(value: object) -> bytes:
    """The canonical bytes of a JSON value (already ``jsonable``)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(previous: str, record: bytes) -> str:
    """The hex SHA-256 that links ``record`` (canonical bytes) to the record before it."""
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(record)
    return digest.hexdigest()
