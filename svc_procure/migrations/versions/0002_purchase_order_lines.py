"""purchase order lines as rows, indexed for replenishment

Replenishment sums, per page of low SKUs, what DRAFT and open orders still
bring into a warehouse. An order's lines are JSON in its row, which no index
can reach by SKU, so the store now also writes each line as a row of
`purchase_order_lines` (with the order's warehouse and state), in the
order's transaction; this migration creates the table, copies the lines of
every existing order into it, and indexes it.

The index is built inside the migration's transaction, not CONCURRENTLY: the
table is new, so no reader or writer can be waiting on it, and one
transaction keeps the migration all or nothing (a failed CONCURRENTLY build
would leave the table committed without its index and this revision not
applied). The copy reads `purchase_orders` under ACCESS SHARE, which blocks
no reads or writes of orders.

Run it with no older svc_procure process still writing orders: such a
process does not write line rows, so an order it changes after the copy
would be summed as it was.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The JSON is what store/orders.py writes: a list of objects with sku,
# quantity_ordered and quantity_received (among others).
COPY = {
    "postgresql": """
        INSERT INTO purchase_order_lines
            (tenant_id, purchase_order_id, sku, warehouse_id, state, quantity_ordered, quantity_received)
        SELECT o.tenant_id, o.id, l ->> 'sku', o.warehouse_id, o.state,
               (l ->> 'quantity_ordered')::bigint, (l ->> 'quantity_received')::bigint
        FROM purchase_orders AS o CROSS JOIN LATERAL json_array_elements(o.lines::json) AS l
    """,
    "sqlite": """
        INSERT INTO purchase_order_lines
            (tenant_id, purchase_order_id, sku, warehouse_id, state, quantity_ordered, quantity_received)
        SELECT o.tenant_id, o.id, json_extract(l.value, '$.sku'), o.warehouse_id, o.state,
               json_extract(l.value, '$.quantity_ordered'), json_extract(l.value, '$.quantity_received')
        FROM purchase_orders AS o, json_each(o.lines) AS l
    """,
}


def upgrade() -> None:
    op.create_table(
        "purchase_order_lines",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("purchase_order_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("quantity_ordered", sa.BigInteger(), nullable=False),
        sa.Column("quantity_received", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "purchase_order_id"],
            ["purchase_orders.tenant_id", "purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_tenant_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "purchase_order_id", "sku", name=op.f("pk_purchase_order_lines")
        ),
    )
    op.execute(COPY[op.get_bind().dialect.name])
    # After the copy: one sorted build instead of an insert per row. Partial:
    # the lines still coming only (DRAFT, SUBMITTED, PARTIALLY_RECEIVED), so
    # its size follows the open orders, not the history.
    coming = sa.text("state IN ('draft', 'submitted', 'partially_received')")
    op.create_index(
        "ix_purchase_order_lines_coming",
        "purchase_order_lines",
        ["tenant_id", "warehouse_id", "sku"],
        unique=False,
        postgresql_where=coming,
        sqlite_where=coming,
    )


def downgrade() -> None:
    op.drop_index("ix_purchase_order_lines_coming", table_name="purchase_order_lines")
    op.drop_table("purchase_order_lines")
