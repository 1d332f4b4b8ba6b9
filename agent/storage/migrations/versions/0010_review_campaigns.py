"""access review campaigns, their items and the notices sent for them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('review_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', _STR(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('started_at', _TIME(), nullable=False),
    sa.Column('started_by', _STR(length=200), nullable=False),
    sa.Column('closed_at', _TIME(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('review_campaign_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('scan_id', sa.Integer(), nullable=True),
    sa.Column('identity', _STR(length=320), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('email', _STR(length=320), nullable=False),
    sa.Column('name', _STR(length=500), nullable=False),
    sa.Column('role', _STR(length=100), nullable=False),
    sa.Column('finding_class', _STR(length=32), nullable=False),
    sa.Column('reviewer', _STR(length=200), nullable=False),
    sa.Column('reviewer_basis', _STR(length=32), nullable=False),
    sa.Column('escalated_from', _STR(length=200), nullable=False),
    sa.Column('escalated_at', _TIME(), nullable=True),
    sa.Column('decision', _STR(length=16), nullable=False),
    sa.Column('reason', _STR(length=2000), nullable=False),
    sa.Column('decided_by', _STR(length=200), nullable=False),
    sa.Column('decided_at', _TIME(), nullable=True),
    sa.Column('removal_item_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_gone_at', _TIME(), nullable=True),
    sa.Column('confirmed_scan_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['review_campaign.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['confirmed_scan_id'], ['scan.id'], ),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['removal_item_id'], ['removal_item.id'], ),
    sa.ForeignKeyConstraint(['scan_id'], ['scan.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_campaign_item', schema=None) as batch_op:
        for column in ('campaign_id', 'client_id', 'decision', 'finding_id', 'org_id', 'reviewer', 'staff_id'):
            batch_op.create_index(batch_op.f(f'ix_review_campaign_item_{column}'), [column], unique=False)

    op.create_table('review_campaign_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', _STR(length=200), nullable=False),
    sa.Column('kind', _STR(length=16), nullable=False),
    sa.Column('recipient', _STR(length=320), nullable=False),
    sa.Column('sent_at', _TIME(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['review_campaign.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'reviewer', 'kind')
    )
    with op.batch_alter_table('review_campaign_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_campaign_notice_campaign_id'), ['campaign_id'], unique=False)


def downgrade() -> None:
    op.drop_table('review_campaign_notice')
    op.drop_table('review_campaign_item')
    op.drop_table('review_campaign')
