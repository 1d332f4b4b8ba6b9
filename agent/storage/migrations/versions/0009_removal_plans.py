"""removal plans and their items, and the requests made of clients

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('removal_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', _TIME(), nullable=False),
    sa.Column('proposed_by', _STR(length=200), nullable=False),
    sa.Column('proposed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('scope', _STR(length=500), nullable=False),
    sa.Column('note', _STR(length=2000), nullable=False),
    sa.Column('run_requested_at', _TIME(), nullable=True),
    sa.Column('run_requested_by', _STR(length=200), nullable=False),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('removal_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('identity', _STR(length=320), nullable=False),
    sa.Column('email', _STR(length=320), nullable=False),
    sa.Column('name', _STR(length=500), nullable=False),
    sa.Column('role', _STR(length=100), nullable=False),
    sa.Column('finding_class', _STR(length=32), nullable=False),
    sa.Column('portal_user_id', _STR(length=64), nullable=True),
    sa.Column('removable_by', _STR(length=16), nullable=False),
    sa.Column('removable_reason', _STR(length=200), nullable=False),
    sa.Column('action', _STR(length=16), nullable=False),
    sa.Column('barrier', _STR(length=200), nullable=False),
    sa.Column('planned_scan_id', sa.Integer(), nullable=True),
    sa.Column('state', _STR(length=16), nullable=False),
    sa.Column('approved_by', _STR(length=200), nullable=False),
    sa.Column('approved_at', _TIME(), nullable=True),
    sa.Column('claim_token', _STR(length=32), nullable=False),
    sa.Column('claimed_at', _TIME(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('detail', _STR(length=2000), nullable=False),
    sa.Column('removed_at', _TIME(), nullable=True),
    sa.Column('verified_at', _TIME(), nullable=True),
    sa.Column('verified_scan_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', _TIME(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['removal_plan.id'], ),
    sa.ForeignKeyConstraint(['planned_scan_id'], ['scan.id'], ),
    sa.ForeignKeyConstraint(['verified_scan_id'], ['scan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('removal_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_item_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_item_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_item_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_item_state'), ['state'], unique=False)

    op.create_table('client_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('identity', _STR(length=320), nullable=False),
    sa.Column('email', _STR(length=320), nullable=False),
    sa.Column('name', _STR(length=500), nullable=False),
    sa.Column('why_remove', _STR(length=500), nullable=False),
    sa.Column('why_client', _STR(length=200), nullable=False),
    sa.Column('requested_by', _STR(length=200), nullable=False),
    sa.Column('requested_at', _TIME(), nullable=False),
    sa.Column('reminded_at', _TIME(), nullable=True),
    sa.Column('seen_removed_at', _TIME(), nullable=True),
    sa.Column('seen_removed_scan_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['removal_item.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['seen_removed_scan_id'], ['scan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('client_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_request_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_request_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_request_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_table('client_request')
    op.drop_table('removal_item')
    op.drop_table('removal_plan')
