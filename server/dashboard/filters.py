"""Reading filter choices from a page's address, forgivingly.

A dashboard address is typed, bookmarked and edited by people: an unknown value is
dropped (the list is then less filtered) instead of answering with a validation
error. What remains is a ``FindingFilter``, the same one the API and exports use.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)

PAGE_SIZE = 50
MAX_TEXT = 200


def enums(kind: type[E], values: Iterable[str]) -> list[E]:
    """The values that name a member of ``kind``, in order, without repeats."""
    known = {m.value: m for m in kind}
    found: list[E] = []
    for value in values:
        member = known.get(value)
        if member is not None and member not in found:
            found.append(member)
    return found


def one(kind: type[E], value: str | None) -> E | None:
    members = enums(kind, [value] if value else [])
    return members[0] if members else None


def text(value: str | None) -> str | None:
    """A search text: trimmed, bounded, without NUL; ``None`` when empty."""
    if not value:
        return None
    cleaned = value.replace("\x00", "").strip()[:MAX_TEXT]
    return cleaned or None


def page_number(value: str | None) -> int:
    try:
        return min(max(int(value or "1"), 1), 100_000)
    except ValueError:
        return 1
