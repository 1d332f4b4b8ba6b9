"""One source of "now": timezone-aware UTC.

SQLModel's datetime columns refuse naive values and hand back aware UTC ones on
SQLite and PostgreSQL alike, so every stored time compares with every other.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
