"""intended access may end on a date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('intended_access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('until', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_intended_access_until'), ['until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intended_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intended_access_until'))
        batch_op.drop_column('until')
