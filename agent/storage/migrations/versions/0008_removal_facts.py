"""removal facts: what a scan shows about who can remove each user, and why on findings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('subscriber', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('firm', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('added_by_owner', sa.Boolean(), nullable=True))

    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removable_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('removable_reason')

    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_column('added_by_owner')
        batch_op.drop_column('firm')
        batch_op.drop_column('subscriber')
        batch_op.drop_column('portal_user_id')
