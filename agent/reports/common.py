"""What every report shares: columns, the viewer's scope, the "as of" line, the result.

A report is cut for a **scope**: the set of client ids its viewer may see, or
``None`` for everything. An org linked to no client belongs to nobody's client
list, so it shows only in an unscoped report (as ``agent.security.scope.Scope`` rules). The
scope is printed on every sheet, so a workbook forwarded by email still says whose
view it is.

Times are stored as aware UTC; spreadsheets have no time zones, so every time is
written as naive UTC and every sheet says "UTC". The "as of" line is written in the
product's one date format (``agent.reports.words``), as the dashboard writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlmodel import col

from agent.clock import utcnow
from agent.reports.words import moment
from agent.storage.models import ClientOrgLink

NO_MANAGER = "No client manager"
UNLINKED_CLIENT = "(not linked to a client)"

_Query = TypeVar("_Query", bound=Select[Any])


class ReportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class CellKind(StrEnum):
    """How a column's values are written: text is always text, dates are real dates."""

    TEXT = "text"
    DATETIME = "datetime"
    DATE = "date"
    INT = "int"
    MONEY = "money"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a report table.

    ``width`` is the widest the column grows (in characters): a column is as wide as
    its longest value up to it, and a longer value wraps onto more lines. A single
    word longer than that (an e-mail, a MYOB org id) widens the column further, up to
    ``agent.reports.table_sheet.WORD_MAX``, so it is never broken mid-word.
    """

    title: str
    width: float = 16
    kind: CellKind = CellKind.TEXT


@dataclass(frozen=True, slots=True)
class ReportScope:
    """The clients a report may show (``None``: all, and orgs linked to no client)."""

    client_ids: frozenset[int] | None
    label: str

    @classmethod
    def of(cls, client_ids: Collection[int] | None, label: str | None = None) -> ReportScope:
        if client_ids is None:
            return cls(None, label or "all clients and orgs linked to no client")
        ids = frozenset(int(i) for i in client_ids)
        count = f"{len(ids)} client{'' if len(ids) == 1 else 's'}"
        return cls(ids, f"{label} ({count})" if label else count)

    @property
    def everything(self) -> bool:
        return self.client_ids is None

    def restrict(self, query: _Query) -> _Query:
        """``query`` (joined through ``links.join_client``) cut to the scope's clients."""
        if self.client_ids is None:
            return query
        return query.where(col(ClientOrgLink.client_id).in_(sorted(self.client_ids)))

    @property
    def line(self) -> str:
        return f"Scope: {self.label}"


@dataclass(frozen=True, slots=True)
class ReportResult:
    path: Path
    rows: int
    format: ReportFormat


def naive_utc(value: datetime) -> datetime:
    """The time as naive UTC: what a spreadsheet cell can hold."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def as_of_text(as_of: datetime) -> str:
    """``As of 24 Nov 2026 09:30 UTC``."""
    return f"As of {moment(naive_utc(as_of))}"


def default_filename(stem: str, as_of: datetime, fmt: ReportFormat) -> str:
    """``access-matrix-2026-11-24.xlsx``: a name that sorts by date and says what it is."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-")
    while "--" in safe:
        safe = safe.replace("--", "-")
    return f"{safe or 'report'}-{naive_utc(as_of):%Y-%m-%d}.{fmt.value}"


D = TypeVar("D")


def write_in_format(
    data: D,
    path: Path,
    fmt: ReportFormat | str,
    *,
    scope: ReportScope,
    as_of: datetime | None,
    csv: Callable[[D, Path], int],
    xlsx: Callable[..., int],
) -> ReportResult:
    """Write a report's collected ``data`` as CSV or as a workbook: every report's last step."""
    chosen = ReportFormat(fmt)
    if chosen is ReportFormat.CSV:
        count = csv(data, path)
    else:
        count = xlsx(data, path, scope=scope, as_of=as_of or utcnow())
    return ReportResult(path, count, chosen)
