"""scheduled jobs and sent alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scheduled_job',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduled_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_job_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('alert_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('episode', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('finding_id', 'channel', 'episode')
    )
    with op.batch_alter_table('alert_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_sent_finding_id'), ['finding_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alert_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_sent_finding_id'))

    op.drop_table('alert_sent')
    with op.batch_alter_table('scheduled_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_job_next_run_time'))

    op.drop_table('scheduled_job')
