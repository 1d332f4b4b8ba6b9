"""The migrated schema is exactly what the models describe, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import agent.storage.models  # noqa: F401


def test_migrations_create_every_table_the_models_declare(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], "a model changed without a migration: add one in agent/storage/migrations"


def test_upgrading_twice_is_a_no_op(engine: Engine) -> None:
    from agent.storage.db import upgrade_to_head

    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads()


def test_the_migration_history_is_one_line(engine: Engine) -> None:
    """One head and one base: every database upgrades through the same steps, in order."""
    from agent.storage.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config(engine))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    revisions = list(script.walk_revisions())
    assert all(len(r._versioned_down_revisions) <= 1 for r in revisions)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(
            script.get_heads()
        )
