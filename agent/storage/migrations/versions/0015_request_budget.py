"""each login's requests a day, and the orgs a spent budget left for the next day

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('request_budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['login_id'], ['portal_login.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login_id', 'day')
    )
    with op.batch_alter_table('request_budget', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_budget_login_id'), ['login_id'], unique=False)

    op.create_table('budget_deferral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crawl_id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('orgs', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['crawl_id'], ['crawl.id'], ),
    sa.ForeignKeyConstraint(['login_id'], ['portal_login.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('budget_deferral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_deferral_crawl_id'), ['crawl_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('budget_deferral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_deferral_crawl_id'))

    op.drop_table('budget_deferral')
    with op.batch_alter_table('request_budget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_budget_login_id'))

    op.drop_table('request_budget')
