"""svc_procure's tables and the idempotency records of its mutating calls."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kit import db, idempotency
from kit.db import UtcDateTime
from svc_procure.domain.orders import OPEN, PurchaseOrderState

metadata = db.metadata()
idempotency_records = idempotency.table(metadata)

suppliers = Table(
    "suppliers",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("contact_phone", String(32), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("default_lead_time_days", Integer, nullable=False),
    Column("note", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    CheckConstraint("default_lead_time_days BETWEEN 0 AND 365", name="lead_time_in_range"),
)

supplier_items = Table(
    "supplier_items",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("supplier_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("supplier_sku", String(64), nullable=False),
    Column("unit_cost_nanos", BigInteger, nullable=False),
    Column("lead_time_days", Integer, nullable=True),
    Column("minimum_order_quantity", BigInteger, nullable=False),
    Column("pack_size", BigInteger, nullable=False),
    Column("preferred", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
    UniqueConstraint("tenant_id", "supplier_id", "sku"),
    UniqueConstraint("tenant_id", "supplier_id", "supplier_sku"),
    CheckConstraint("unit_cost_nanos >= 0", name="unit_cost_not_negative"),
    CheckConstraint("minimum_order_quantity >= 1 AND pack_size >= 1", name="order_terms_positive"),
    Index(None, "tenant_id", "sku"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("number", String(32), nullable=False),
    Column("supplier_id", String(36), nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("state", String(24), nullable=False),
    Column("lines", Text, nullable=False),  # JSON list of OrderLine
    Column("currency_code", String(3), nullable=False),
    Column("expected_delivery_at", UtcDateTime, nullable=True),
    Column("supplier_reference", String(200), nullable=False),
    Column("note", Text, nullable=False),
    Column("creator", String(36), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("end_reason", Text, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
    Index(None, "tenant_id", "warehouse_id", "state"),
)

# Every order's lines again, one row each, rewritten by the store with their
# order (store/order_lines.py). The order's row (its JSON lines and version)
# stays the aggregate and its lock; these rows are how replenishment sums what
# is coming per SKU through an index instead of reading every open order. The
# order's warehouse and state are copied in for the index below.
purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("purchase_order_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("state", String(24), nullable=False),
    Column("quantity_ordered", BigInteger, nullable=False),
    Column("quantity_received", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "purchase_order_id", "sku"),  # a SKU once per order
    ForeignKeyConstraint(
        ["tenant_id", "purchase_order_id"], ["purchase_orders.tenant_id", "purchase_orders.id"]
    ),
)

# The states whose lines are still coming (domain.orders: DRAFT and OPEN).
COMING_STATES = (PurchaseOrderState.DRAFT.value, *(s.value for s in OPEN))

# Partial: only lines still coming, so an index probe never wades through a
# warehouse's years of received and cancelled lines. A query uses it only if
# it repeats this predicate with the states as literals (order_lines.py).
_coming = purchase_order_lines.c.state.in_(COMING_STATES)
Index(
    "ix_purchase_order_lines_coming",
    purchase_order_lines.c.tenant_id,
    purchase_order_lines.c.warehouse_id,
    purchase_order_lines.c.sku,
    postgresql_where=_coming,
    sqlite_where=_coming,
)

receipts = Table(
    "receipts",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("purchase_order_id", String(36), nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("lines", Text, nullable=False),  # JSON [[sku, quantity], ...]
    Column("state", String(16), nullable=False),
    Column("delivery_note", String(200), nullable=False),
    Column("note", Text, nullable=False),
    Column("receiver", String(36), nullable=False),
    Column("stock_movements", Text, nullable=False),  # JSON list of names
    Column("received_at", UtcDateTime, nullable=False),
    Column("booked_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "purchase_order_id"], ["purchase_orders.tenant_id", "purchase_orders.id"]
    ),
    Index(None, "state", "received_at"),
)


def columns(table: Table) -> list[str]:
    return [column.name for column in table.columns]
