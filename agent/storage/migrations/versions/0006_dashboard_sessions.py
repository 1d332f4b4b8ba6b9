"""dashboard sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dashboard_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_hash')
    )
    with op.batch_alter_table('dashboard_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dashboard_session_token_id'), ['token_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dashboard_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_session_token_id'))
        batch_op.drop_index(batch_op.f('ix_dashboard_session_expires_at'))

    op.drop_table('dashboard_session')
