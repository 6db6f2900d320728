"""missed cache invalidations, read by every replica

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kit.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('missed_invalidations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('keys', sa.Text(), nullable=False),
    sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missed_invalidations'))
    )
    with op.batch_alter_table('missed_invalidations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missed_invalidations_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('missed_invalidations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missed_invalidations_created_at'))

    op.drop_table('missed_invalidations')
