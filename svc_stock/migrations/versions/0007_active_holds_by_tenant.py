"""active holds by tenant: a partial index of the ACTIVE reservations by
(tenant_id, expire_at)

A reservation batch frees the tenant's holds past their expiry on the levels
it asks for (store/pg_batches.py). Found through an index of every
reservation, that read could grow with the tenant's history; this one holds
the active reservations alone. Built CONCURRENTLY on PostgreSQL, outside the
migration's transaction, so reservations stay writable while it builds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

from kit.migrations import create_index, drop_index

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_reservations_tenant_id_expire_at"
COLUMNS = ["tenant_id", "expire_at"]


def upgrade() -> None:
    create_index(INDEX, "reservations", COLUMNS, where="state = 'active'")


def downgrade() -> None:
    drop_index(INDEX, "reservations")
