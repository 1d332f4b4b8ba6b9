"""procrastinate's tables and functions, applied on PostgreSQL when the queue is first used.

Why an explicit step beside Alembic, not an Alembic migration:

* procrastinate's schema follows procrastinate's releases, not the product's. A
  migration that applied "the installed schema" would create a different schema on
  each database depending on the package installed that day, and no later migration
  could know what to upgrade from. Here the step records the last procrastinate
  migration its schema holds (a comment on ``procrastinate_jobs``), and on each
  start applies procrastinate's own migration files newer than that, in order, one
  transaction each: a database made with any procrastinate release upgrades with the
  package, as procrastinate's documentation asks.
* procrastinate's objects are not the product's tables: Alembic, comparing the models
  with the database, would see them as tables to drop. They stay out of the models
  and out of Alembic's history, and SQLite never has them.

Every process that queues or runs jobs calls ``ensure_job_schema`` once (the worker
at start, the server on its first request for a scan); an advisory lock makes
processes started together take turns, and a schema already current costs one query.
"""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path

from procrastinate.schema import SchemaManager
from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(SchemaManager.get_migrations_path())
MARK = "procrastinate schema at "
_LOCK = "SELECT pg_advisory_lock(hashtext(current_schema()), -2)"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext(current_schema()), -2)"

_ready: weakref.WeakSet[Engine] = weakref.WeakSet()
_ready_lock = threading.Lock()


class JobSchemaError(RuntimeError):
    """A job queue schema this procrastinate cannot work with."""


def migrations() -> list[str]:
    """procrastinate's migration files, oldest first (their names sort by version)."""
    return sorted(path.stem for path in MIGRATIONS.glob("*.sql"))


def ensure_job_schema(engine: Engine) -> None:
    """Create procrastinate's schema, or bring it to the installed release's."""
    with _ready_lock:
        if engine in _ready:
            return
    with engine.connect() as connection:
        connection.exec_driver_sql(_LOCK)
        connection.commit()
        try:
            _bring_up_to_date(connection)
        finally:
            connection.exec_driver_sql(_UNLOCK)
            connection.commit()
    with _ready_lock:
        _ready.add(engine)


def _bring_up_to_date(connection: Connection) -> None:
    known = migrations()
    newest = known[-1]
    exists = connection.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
    if exists is None:
        _run_script(connection, SchemaManager.get_schema())
        _mark(connection, newest)
        connection.commit()
        log.info("job queue schema created (procrastinate %s)", newest)
        return
    comment = connection.exec_driver_sql(
        "SELECT obj_description(to_regclass('procrastinate_jobs'), 'pg_class')"
    ).scalar()
    connection.commit()
    if not isinstance(comment, str) or not comment.startswith(MARK):
        raise JobSchemaError(
            "procrastinate_jobs exists but does not say which procrastinate schema it has "
            f"(its comment should read '{MARK}<migration>'): set it, then start again"
        )
    applied = comment.removeprefix(MARK)
    if applied > newest:
        raise JobSchemaError(
            f"the job queue's schema ({applied}) is newer than the installed procrastinate "
            f"knows ({newest}): install the procrastinate release this database was used with"
        )
    for name in (m for m in known if m > applied):
        apply_migration(connection, name)
        log.info("job queue schema migrated to %s", name)


def apply_migration(connection: Connection, name: str) -> None:
    """One of procrastinate's migration files, then the mark that says so.

    Statement by statement, each committed, as psql runs a file: some migrations add
    a value to an enum and then use it, which one transaction may not.
    """
    for statement in statements((MIGRATIONS / f"{name}.sql").read_text(encoding="utf-8")):
        _run_script(connection, statement)
        connection.commit()
    _mark(connection, name)
    connection.commit()


def _run_script(connection: Connection, script: str) -> None:
    """Run SQL as written: psycopg sends a query without parameters whole, several
    statements and all, and reads no placeholders in it."""
    connection.connection.driver_connection.execute(script)  # type: ignore[union-attr]


def statements(script: str) -> list[str]:
    """A SQL file's statements: split at each ``;`` outside quotes, dollar-quoted
    bodies and comments; a piece with nothing but comments is no statement."""
    found: list[str] = []
    start = i = 0
    code = False
    while i < len(script):
        char = script[i]
        if script.startswith("--", i):
            i = _after(script, "\n", i + 2)
            continue
        if script.startswith("/*", i):
            i = _after(script, "*/", i + 2)
            continue
        if char == ";":
            if code:
                found.append(script[start : i + 1])
            start, i, code = i + 1, i + 1, False
            continue
        code = code or not char.isspace()
        if char == "'":
            i = _after(script, "'", i + 1)
        elif char == "$" and (tag := _dollar_tag(script, i)):
            i = _after(script, tag, i + len(tag))
        else:
            i += 1
    if code:
        found.append(script[start:])
    return found


def _after(script: str, closing: str, i: int) -> int:
    end = script.find(closing, i)
    return len(script) if end < 0 else end + len(closing)


def _dollar_tag(script: str, i: int) -> str:
    """``$$`` or ``$name$`` opening at ``i``, else nothing (``$1`` is a parameter)."""
    end = script.find("$", i + 1)
    name = script[i + 1 : end] if end > i else "-"
    if name[:1].isdigit() or not all(c.isalnum() or c == "_" for c in name):
        return ""
    return f"${name}$"


def _mark(connection: Connection, migration: str) -> None:
    # a migration's file name: letters, digits, dots and underscores only
    assert all(c.isalnum() or c in "._" for c in migration), migration
    connection.exec_driver_sql(f"COMMENT ON TABLE procrastinate_jobs IS '{MARK}{migration}'")
