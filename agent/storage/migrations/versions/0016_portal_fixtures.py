"""portal pages saved for support: redacted users pages to replay with any recipe

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('portal_fixture',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portal', _STR(length=16), nullable=False),
    sa.Column('portal_org_id', _STR(length=64), nullable=False),
    sa.Column('recipe', _STR(length=120), nullable=False),
    sa.Column('kind', _STR(length=8), nullable=False),
    sa.Column('page_path', _STR(length=500), nullable=False),
    sa.Column('recipe_read', sa.Boolean(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', _STR(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_by', _STR(length=200), nullable=False),
    sa.Column('created_at', _TIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('portal_fixture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_fixture_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_fixture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_fixture_created_at'))

    op.drop_table('portal_fixture')
