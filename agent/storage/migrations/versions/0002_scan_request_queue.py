"""The scan request queue shared by the CLI, the API, the extension and the scheduler.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scan_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=True),
    sa.Column('portal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('portal_org_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('crawl_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['crawl_id'], ['crawl.id'], ),
    sa.ForeignKeyConstraint(['login_id'], ['portal_login.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scan_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_request_login_id'), ['login_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_request_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_request_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scan_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_request_status'))
        batch_op.drop_index(batch_op.f('ix_scan_request_requested_at'))
        batch_op.drop_index(batch_op.f('ix_scan_request_login_id'))

    op.drop_table('scan_request')
