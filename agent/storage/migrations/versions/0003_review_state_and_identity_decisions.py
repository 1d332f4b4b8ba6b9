"""Review state and identity decisions: match decisions and candidates, review events, org watermarks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity', 'staff_id')
    )
    with op.batch_alter_table('match_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_decision_identity'), ['identity'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_decision_staff_id'), ['staff_id'], unique=False)

    op.create_table('org_reconcile',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('last_scan_id', sa.Integer(), nullable=True),
    sa.Column('reconciled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['last_scan_id'], ['scan.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.PrimaryKeyConstraint('org_id')
    )
    op.create_table('finding_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finding_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_review_finding_id'), ['finding_id'], unique=False)

    op.create_table('match_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('staff_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('finding_id', 'staff_id')
    )
    with op.batch_alter_table('match_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_candidate_finding_id'), ['finding_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('match_candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_candidate_finding_id'))

    op.drop_table('match_candidate')
    with op.batch_alter_table('finding_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_review_finding_id'))

    op.drop_table('finding_review')
    op.drop_table('org_reconcile')
    with op.batch_alter_table('match_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_decision_staff_id'))
        batch_op.drop_index(batch_op.f('ix_match_decision_identity'))

    op.drop_table('match_decision')
