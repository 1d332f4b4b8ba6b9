"""Importing the practice's own files: the staff roster, the client list, intended access.

Each import reads a CSV or XLSX file, validates it whole and then replaces that kind
of data in one transaction, or raises ``ImportRejected`` listing every bad row with
its file, spreadsheet row number, column and reason, and changes nothing (DESIGN.md,
"Nothing half-imported"). The columns of each kind are documented in ``COLUMNS``.

Typical use, one transaction per file::

    result = run_import(engine, "staff", "staff.xlsx", practice_domains=["practice.co.nz"])

Import the roster before the client list and intended access: clients may name their
managers, and access rows name staff, by email. Every import reads at most
``max_rows`` data rows (``ACCESSRECON_IMPORT_MAX_ROWS``); a longer file is refused
after reading that many, with one error.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike

from sqlalchemy import Engine

from agent.imports.access import import_access
from agent.imports.clients import import_clients
from agent.imports.columns import COLUMNS, ColumnSpec, ImportKind, column_help
from agent.imports.common import ImportResult
from agent.imports.errors import ERROR_LIMIT, FieldError, ImportRejected, RowError
from agent.imports.job_titles import TITLE_ROLES, PracticeRole, role_for_title
from agent.imports.org_ids import normalise_org_id
from agent.imports.row_limit import DEFAULT_MAX_ROWS
from agent.imports.staff import import_staff
from agent.storage.db import session_scope

__all__ = [
    "COLUMNS",
    "DEFAULT_MAX_ROWS",
    "ERROR_LIMIT",
    "TITLE_ROLES",
    "ColumnSpec",
    "FieldError",
    "ImportKind",
    "ImportRejected",
    "ImportResult",
    "PracticeRole",
    "RowError",
    "column_help",
    "import_access",
    "import_clients",
    "import_staff",
    "normalise_org_id",
    "role_for_title",
    "run_import",
]


def run_import(
    engine: Engine,
    kind: ImportKind | str,
    path: str | PathLike[str],
    *,
    practice_domains: Iterable[str] = (),
    actor: str = "cli",
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ImportResult:
    """Import one file of ``kind`` in its own transaction, committed if it is valid.

    Args:
        engine: the database to write to.
        kind: ``staff``, ``clients`` or ``access``.
        path: the CSV or XLSX file.
        practice_domains: the practice's email domains (to normalise addresses).
        actor: who imported, for the audit log.
        max_rows: the most data rows the file may hold (``Settings.import_max_rows``).

    Raises ``ImportRejected`` (nothing changed) or ``ValueError`` for an unknown kind.
    """
    try:
        which = ImportKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in ImportKind)
        raise ValueError(f"unknown import kind {kind!r}; use one of {known}") from None
    with session_scope(engine) as session:
        if which is ImportKind.STAFF:
            return import_staff(
                session, path, practice_domains=practice_domains, actor=actor, max_rows=max_rows
            )
        if which is ImportKind.CLIENTS:
            return import_clients(
                session, path, practice_domains=practice_domains, actor=actor, max_rows=max_rows
            )
        return import_access(
            session, path, practice_domains=practice_domains, actor=actor, max_rows=max_rows
        )
