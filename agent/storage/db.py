"""Engine and sessions, on SQLite (the default, WAL mode) or PostgreSQL.

The schema is always brought to head through Alembic, never by ``create_all``, so
a database made by any earlier release upgrades in place.

A SQLite file is the practice's client data: it is created ``0600`` before SQLite
opens it (SQLite gives the WAL and shared-memory files the database file's mode),
and an existing one whose files others may read is warned about and fixed at start
(``agent.filemodes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from agent.filemodes import check_private, create_private, sqlite_files

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, foreign keys and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            database = Path(url.database)
            create_private(database)
            for path in sqlite_files(database):
                check_private(path)
        engine = create_engine(
            database_url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(database_url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


#: the advisory lock that lets one process at a time migrate a PostgreSQL schema (the
#: first key is the schema's name hashed, so databases' schemas never wait on each other)
MIGRATION_LOCK = "SELECT pg_advisory_lock(hashtext(current_schema()), -1)"
MIGRATION_UNLOCK = "SELECT pg_advisory_unlock(hashtext(current_schema()), -1)"


def upgrade_to_head(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration.

    On PostgreSQL every process of a deployment migrates at start (a server and any
    number of workers, started together), so they take turns: the first migrates,
    the others find the schema at head.
    """
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect() as guard:
        guard.exec_driver_sql(MIGRATION_LOCK)
        guard.commit()  # the lock is the session's, not the transaction's
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            guard.exec_driver_sql(MIGRATION_UNLOCK)
            guard.commit()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
