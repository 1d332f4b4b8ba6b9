"""What every import shares once a file is valid: its result, its audit event, its guards.

Writes happen only after validation found nothing wrong, inside the caller's
transaction; ``record_audit`` adds the ``import.<kind>`` event in that same
transaction, so an import and its record are committed or lost together.

Records the new file no longer lists are removed only when nothing else in the
database points at them; ``referenced_ids`` finds such pointers through the schema's
foreign keys, so a table added later is respected without changes here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Table, select
from sqlmodel import Session, SQLModel

from agent.imports.columns import ImportKind
from agent.imports.errors import ImportRejected, Problems, RowError
from agent.imports.sheet import Sheet
from agent.storage.models import AuditEvent


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import changed.

    ``updated`` counts existing records the file changed and ``unchanged`` those it
    left as they were; ``retained`` counts records missing from the file that were kept
    (and marked left or archived) because other data points at them.
    """

    kind: ImportKind
    file: str
    rows: int
    created: int
    updated: int
    removed: int
    unchanged: int = 0
    retained: int = 0
    warnings: tuple[str, ...] = ()
    sha256: str = ""

    def __str__(self) -> str:
        parts = [
            f"{self.created} created",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.removed} removed",
        ]
        if self.retained:
            parts.append(f"{self.retained} kept though not in the file")
        noun = "row" if self.rows == 1 else "rows"
        return f"{self.kind} import of {self.file}: {self.rows} {noun}; {', '.join(parts)}"


def require_rows(sheet: Sheet, what: str, errors: Problems | list[RowError]) -> None:
    """A roster or client list with no rows would wipe the data: refuse it."""
    if not sheet.rows:
        errors.append(
            RowError(
                sheet.file,
                None,
                None,
                f"the file has a header but no {what}; importing it would remove every "
                f"{what.rstrip('s')} already imported. If that is really meant, it is not "
                "supported: fix the export and try again",
            )
        )


def reject_if(errors: Problems | list[RowError]) -> None:
    """Refuse the file if validation found anything (kept problems and their count)."""
    if errors:
        raise ImportRejected(errors)


def referenced_ids(
    session: Session, target: type[SQLModel], ids: Collection[int], *, ignore: Collection[str]
) -> set[int]:
    """Which of ``ids`` (primary keys of ``target``) some other table points at.

    Tables named in ``ignore`` are the import's own (it rewrites them itself).
    """
    if not ids:
        return set()
    target_table: Table = target.__table__  # type: ignore[attr-defined]
    found: set[int] = set()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in ignore:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not target_table:
                continue
            column = fk.parent
            found.update(
                value
                for value in session.exec(
                    select(column).where(column.in_(list(ids))).distinct()
                ).scalars()
                if value is not None
            )
    return found


def row_numbers(numbers: list[int]) -> str:
    """Rows named in a warning: ``row 4``, or ``rows 4, 9`` (ten at most, then a count)."""
    shown = ", ".join(str(n) for n in numbers[:10])
    more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
    return f"row {shown}" if len(numbers) == 1 else f"rows {shown}{more}"


def record_audit(session: Session, *, actor: str, sheet: Sheet, result: ImportResult) -> None:
    session.add(
        AuditEvent(
            actor=actor,
            action=f"import.{result.kind}",
            detail={
                "file": sheet.file,
                "rows": result.rows,
                "sha256": sheet.sha256,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "removed": result.removed,
                "retained": result.retained,
            },
        )
    )
