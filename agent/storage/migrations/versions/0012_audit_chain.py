"""audit events chained by SHA-256

Every audit row from now on carries its place in the chain (``seq``), the hash of
the row before it (``prev_hash``) and its own (``hash``); ``audit_chain_head`` holds
the newest ``seq`` and ``hash``. Rows already there stay unchained (``seq`` empty):
the chain starts with the first event recorded after this migration. The head row
is made by that first event, not here, so a backup restores into a migrated
database without a head row in the way.

The columns are added with plain ``ALTER TABLE`` on both databases, never by
recreating ``audit_event`` (SQLite's batch mode would), which would lose the
append-only triggers of migration 0004. The head row may move but not go: a trigger
rejects its deletion.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
HEAD_KEPT = "audit_chain_head cannot be deleted: the audit chain needs it"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    BEGIN SELECT RAISE(ABORT, '{HEAD_KEPT}'); END""",
)

POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION audit_chain_head_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{HEAD_KEPT}'; END $$""",
    """CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_kept()""",
    """CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_kept()""",
)


def upgrade() -> None:
    # op.add_column outside batch mode: ALTER TABLE ... ADD COLUMN, the table and its
    # triggers stay as they are.
    op.add_column('audit_event', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column(
        'audit_event',
        sa.Column('prev_hash', _STR(length=64), nullable=False, server_default=''),
    )
    op.add_column(
        'audit_event', sa.Column('hash', _STR(length=64), nullable=False, server_default='')
    )
    op.create_index(op.f('ix_audit_event_seq'), 'audit_event', ['seq'], unique=True)
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', _STR(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name='audit_chain_head_one_row'),
    sa.PrimaryKeyConstraint('id')
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = SQLITE_TRIGGERS
    elif dialect == "postgresql":
        statements = POSTGRESQL_TRIGGERS
    else:
        raise NotImplementedError(f"no audit chain head trigger for {dialect}")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_no_delete ON audit_chain_head")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head_kept()")
    op.drop_table('audit_chain_head')
    op.drop_index(op.f('ix_audit_event_seq'), table_name='audit_event')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later): the 0004 triggers stay.
    op.drop_column('audit_event', 'hash')
    op.drop_column('audit_event', 'prev_hash')
    op.drop_column('audit_event', 'seq')
