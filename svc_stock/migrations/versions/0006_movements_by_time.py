"""movements by time: an index for ListMovements filtered by a time window

A window (start_time, end_time) was filtered along the ledger's sequence
order, so a narrow window in a long ledger read every row after it. With
this index PostgreSQL reads the window's rows alone and orders them by
sequence. Built CONCURRENTLY on PostgreSQL, outside the migration's
transaction, so the ledger stays writable while it builds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

from kit.migrations import create_index, drop_index

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_movements_tenant_id_created_at"
COLUMNS = ["tenant_id", "created_at"]


def upgrade() -> None:
    create_index(INDEX, "movements", COLUMNS)


def downgrade() -> None:
    drop_index(INDEX, "movements")
