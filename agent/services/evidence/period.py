"""The period an evidence pack covers: whole days, both inclusive, in UTC.

``--from 2026-01-01 --to 2026-03-31`` is the first quarter: from midnight UTC on
1 January to the instant before midnight UTC on 1 April. A date that is not one, or
a start after the end, is refused with the option named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = ["Period", "PeriodError"]


class PeriodError(ValueError):
    """A period that cannot be: a date that is not one, or a start after the end."""


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, both inclusive, in UTC."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise PeriodError(
                f"--from {self.first_day} is after --to {self.last_day}: the period would be empty"
            )

    @classmethod
    def parse(cls, first: str, last: str) -> Period:
        return cls(_day("--from", first), _day("--to", last))

    @property
    def begins(self) -> datetime:
        return datetime(self.first_day.year, self.first_day.month, self.first_day.day, tzinfo=UTC)

    @property
    def ends(self) -> datetime:
        """The first instant after the period."""
        return self.begins + timedelta(days=(self.last_day - self.first_day).days + 1)

    def __str__(self) -> str:
        return f"{self.first_day} to {self.last_day}"


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{option} {text!r} is not a date: write it as YYYY-MM-DD") from None
