"""each fire time of a crawl schedule, recorded once across every server

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('schedule_firing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('fired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('fired_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login_id', 'due_at')
    )


def downgrade() -> None:
    op.drop_table('schedule_firing')
