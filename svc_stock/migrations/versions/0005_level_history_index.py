"""a level's history read from the index alone

The (tenant, warehouse, sku, sequence) index of movements now also carries
each movement's deltas, type and effective time (INCLUDE, PostgreSQL), so
reconciliation's sums, a page of demand and a level's last sequence are
index-only scans in SKU order. Reconciling a warehouse of a million ledger
rows slice by slice otherwise reads the rows themselves, scattered over the
table (a random read per movement). The new index is built CONCURRENTLY
under a new name, then the old one dropped CONCURRENTLY; on SQLite (no
INCLUDE) the index is only renamed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 13:45:00
"""

from collections.abc import Sequence

from kit.migrations import create_index, drop_index

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "ix_movements_tenant_id_warehouse_id_sku_sequence"
NEW = "ix_movements_level_history"
COLUMNS = ["tenant_id", "warehouse_id", "sku", "sequence"]
INCLUDE = ["quantity_delta", "reserved_delta", "type", "effective_at"]


def upgrade() -> None:
    create_index(NEW, "movements", COLUMNS, include=INCLUDE)
    drop_index(OLD, "movements")


def downgrade() -> None:
    create_index(OLD, "movements", COLUMNS)
    drop_index(NEW, "movements")
