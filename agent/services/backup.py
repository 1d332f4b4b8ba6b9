"""Backups that restore into any supported database, at any later schema.

A backup is a zip: a manifest (format, schema revisions, row counts) and one JSON
Lines file per table, written table by table in streaming fashion. It is logical,
not a file copy, so a practice can restore a SQLite backup into PostgreSQL. Restore
needs an empty database: it brings it to the backup's schema revision, loads the
rows, then migrates to the newest schema, exactly as an old database would be.

Secrets stay encrypted inside the backup. The key is not in it: back the key up
separately, or the restored logins cannot be opened.

A backup holds every client's data, so its file is ``0600`` from the first byte
(``agent.filemodes``), and writing one is an export like any other: ``record_backup``
puts it in the audit log with its row count and the file's SHA-256.
"""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, Table, func, insert, select, text
from sqlmodel import Session, SQLModel

import agent.storage.models  # noqa: F401  (every table on the metadata)
from agent.clock import utcnow
from agent.filemodes import open_private
from agent.security.audit import file_sha256
from agent.security.audit import record as audit_record
from agent.storage.db import alembic_config

FORMAT = "accessrecon-backup"
VERSION = 1
BATCH = 1000
KEY_REMINDER = (
    "the secret key is not in the backup: keep a copy of the key file "
    "(or ACCESSRECON_SECRET_KEY) with it, or restored logins cannot be opened"
)


class BackupError(ValueError):
    """A backup that cannot be written or restored; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    revisions: tuple[str, ...]
    rows: dict[str, int]


def _tables(engine: Engine) -> list[Table]:
    """The product's tables as this database has them now (an old one has fewer columns)."""
    reflected = MetaData()
    reflected.reflect(bind=engine, only=lambda name, _meta: name in SQLModel.metadata.tables)
    return list(reflected.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        # Every stored time is UTC; SQLite hands them back without a zone.
        return {"$dt": (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$b64":
            return base64.b64decode(raw)
        if tag == "$dt":
            return datetime.fromisoformat(raw)
        if tag == "$d":
            return date.fromisoformat(raw)
    return value


def _revisions(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def write_backup(engine: Engine, path: Path) -> BackupSummary:
    revisions = _revisions(engine)
    if not revisions:
        raise BackupError("the database has no schema yet: there is nothing to back up")
    rows: dict[str, int] = {}
    with (
        open_private(path, "wb") as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        engine.connect() as connection,
    ):
        for table in _tables(engine):
            count = 0
            with archive.open(f"{table.name}.jsonl", "w") as handle:
                result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(table)
                )
                for row in result.mappings():
                    record = {k: _encode(v) for k, v in row.items()}
                    handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
                    count += 1
            rows[table.name] = count
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": utcnow().isoformat(),
            "revisions": list(revisions),
            "rows": rows,
            "note": KEY_REMINDER,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    return BackupSummary(path, revisions, rows)


def record_backup(session: Session, summary: BackupSummary, *, actor: str) -> None:
    """Audit a written backup as an export: rows, tables, file name and SHA-256."""
    audit_record(
        session,
        actor=actor,
        action="export.backup",
        detail={
            "rows": sum(summary.rows.values()),
            "tables": len(summary.rows),
            "sha256": file_sha256(summary.path),
            "filename": summary.path.name,
            "revisions": list(summary.revisions),
        },
    )


def _manifest(archive: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError):
        raise BackupError(f"{path} is not an accessrecon backup (no manifest)") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{path} is not a backup this version can read")
    return manifest


def _records(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with archive.open(f"{name}.jsonl") as handle:
        for line in handle:
            yield {k: _decode(v) for k, v in json.loads(line).items()}


def restore_backup(engine: Engine, path: Path) -> BackupSummary:
    """Load a backup into an empty database and migrate it to the newest schema."""
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    with zipfile.ZipFile(path) as archive:
        manifest = _manifest(archive, path)
        config = alembic_config(engine)
        current = _revisions(engine)
        if current:
            with engine.connect() as connection:
                for table in _tables(engine):
                    if connection.execute(select(func.count()).select_from(table)).scalar():
                        raise BackupError(
                            f"the target database is not empty (table {table.name} has rows): "
                            "restore only into a new database"
                        )
            command.downgrade(config, "base")
        for revision in manifest["revisions"]:
            command.upgrade(config, revision)
        loaded: dict[str, int] = {}
        with engine.begin() as connection:
            for table in _tables(engine):
                if table.name not in manifest["rows"]:
                    continue
                batch: list[dict[str, Any]] = []
                count = 0
                for record in _records(archive, table.name):
                    batch.append(record)
                    if len(batch) >= BATCH:
                        connection.execute(insert(table), batch)
                        count += len(batch)
                        batch = []
                if batch:
                    connection.execute(insert(table), batch)
                    count += len(batch)
                loaded[table.name] = count
                if count and connection.dialect.name == "postgresql" and "id" in table.c:
                    # The name comes from the product's own metadata, never from the backup.
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                            f"(SELECT MAX(id) FROM {table.name}))"
                        )
                    )
        if loaded != {k: v for k, v in manifest["rows"].items() if k in loaded}:
            raise BackupError("the backup's row counts do not match what was loaded")
    command.upgrade(config, "heads")
    return BackupSummary(path, tuple(manifest["revisions"]), loaded)
