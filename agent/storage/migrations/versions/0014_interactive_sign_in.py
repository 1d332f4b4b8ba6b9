"""logins a person signs in: the sign-in method, when connected, since when it needs sign-in

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in_method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='totp'))
        batch_op.add_column(sa.Column('connected_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('needs_sign_in_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('portal_login', schema=None) as batch_op:
        batch_op.drop_column('needs_sign_in_since')
        batch_op.drop_column('connected_at')
        batch_op.drop_column('sign_in_method')
