"""Initial schema: the glossary's tables.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('client_manager', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('job_manager', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('partner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('annual_fee', sa.Float(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_id')
    )
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_client_manager'), ['client_manager'], unique=False)

    op.create_table('crawl',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('portal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('crawl', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_status'), ['status'], unique=False)

    op.create_table('portal_login',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('password_enc', sa.LargeBinary(), nullable=False),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=False),
    sa.Column('storage_state_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('portal', 'base_url', 'email')
    )
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_login_portal'), ['portal'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('practice_role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_name'), ['name'], unique=False)

    op.create_table('client_org_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('portal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('portal_org_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('portal', 'portal_org_id')
    )
    with op.batch_alter_table('client_org_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_org_link_client_id'), ['client_id'], unique=False)

    op.create_table('intended_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('portal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('portal_org_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('extra_permissions', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('staff_id', 'portal', 'portal_org_id')
    )
    with op.batch_alter_table('intended_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intended_access_staff_id'), ['staff_id'], unique=False)

    op.create_table('org',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portal', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('portal_org_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=True),
    sa.Column('viewer_role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_listed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['login_id'], ['portal_login.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('portal', 'portal_org_id')
    )
    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_login_id'), ['login_id'], unique=False)

    op.create_table('staff_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('staff_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_email_staff_id'), ['staff_id'], unique=False)

    op.create_table('scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crawl_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('reported_total', sa.Integer(), nullable=True),
    sa.Column('user_count', sa.Integer(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['crawl_id'], ['crawl.id'], ),
    sa.ForeignKeyConstraint(['login_id'], ['portal_login.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_crawl_id'), ['crawl_id'], unique=False)
        batch_op.create_index('ix_scan_org_finished', ['org_id', 'finished_at'], unique=False)

    op.create_table('finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('finding_class', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('extra_permissions', sa.JSON(), nullable=True),
    sa.Column('access_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('intended_role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('removable_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('first_scan_id', sa.Integer(), nullable=True),
    sa.Column('last_scan_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('review_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['first_scan_id'], ['scan.id'], ),
    sa.ForeignKeyConstraint(['last_scan_id'], ['scan.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'identity')
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_finding_class'), ['finding_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_staff_id'), ['staff_id'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('extra_permissions', sa.JSON(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('last_login', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['scan_id'], ['scan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_scan_id'), ['scan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_scan_id'))

    op.drop_table('observation')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_staff_id'))
        batch_op.drop_index(batch_op.f('ix_finding_org_id'))
        batch_op.drop_index(batch_op.f('ix_finding_finding_class'))

    op.drop_table('finding')
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_org_finished')
        batch_op.drop_index(batch_op.f('ix_scan_crawl_id'))

    op.drop_table('scan')
    with op.batch_alter_table('staff_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_email_staff_id'))

    op.drop_table('staff_email')
    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_login_id'))

    op.drop_table('org')
    with op.batch_alter_table('intended_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intended_access_staff_id'))

    op.drop_table('intended_access')
    with op.batch_alter_table('client_org_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_org_link_client_id'))

    op.drop_table('client_org_link')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_name'))

    op.drop_table('staff')
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_login_portal'))

    op.drop_table('portal_login')
    with op.batch_alter_table('crawl', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_status'))

    op.drop_table('crawl')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_client_manager'))

    op.drop_table('client')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
