"""reservation lines without a foreign key to their reservation

The check ran once per line on the reservation hot path, and its cached plan
could probe a tenant-prefixed secondary index instead of the primary key,
reading every reservation of the tenant per line until the table was first
analysed. Lines are only ever written in the same statement or transaction
as their reservation, and neither is ever deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "fk_reservation_lines_tenant_id_reservations"


def upgrade() -> None:
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.create_foreign_key(NAME, "reservations", ["tenant_id", "reservation_id"], ["tenant_id", "id"])
