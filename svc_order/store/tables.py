"""svc_order's tables (SQLAlchemy Core; SQLite and PostgreSQL), and the
idempotency records of its requests."""

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

metadata = db.metadata()

orders = Table(
    "orders",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(200), nullable=True),  # NULL when unset: unique only when set
    Column("customer", String(200), nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("status", String(24), nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("reservation_id", String(36), nullable=False),
    Column("hold_expire_at", UtcDateTime, nullable=False),
    Column("carrier", String(100), nullable=True),
    Column("tracking_number", String(100), nullable=True),
    Column("shipped_at", UtcDateTime, nullable=True),
    Column("note", Text, nullable=False),
    Column("order_time", UtcDateTime, nullable=False),
    Column("creator_id", String(36), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("cancel_reason", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("imported", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "number"),
    UniqueConstraint("tenant_id", "channel", "external_id"),
    Index("ix_orders_tenant_order_time", "tenant_id", "order_time", "id"),
    Index("ix_orders_status_hold", "status", "hold_expire_at"),
)

lines = Table(
    "order_lines",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("order_id", String(36), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("description", String(500), nullable=False),
    Column("list_price_currency", String(3), nullable=False),
    Column("list_price_units", BigInteger, nullable=False),
    Column("list_price_nanos", Integer, nullable=False),
    Column("unit_price_units", BigInteger, nullable=False),
    Column("unit_price_nanos", Integer, nullable=False),
    Column("shipped_quantity", BigInteger, nullable=False),
    Column("returned_quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "order_id", "position"),
    UniqueConstraint("tenant_id", "order_id", "sku"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    Index("ix_order_lines_tenant_sku", "tenant_id", "sku"),
    CheckConstraint("quantity >= 1", name="quantity_positive"),
    CheckConstraint("returned_quantity <= shipped_quantity", name="returned_within_shipped"),
)

returns = Table(
    "order_returns",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("order_id", String(36), nullable=False),
    Column("lines", Text, nullable=False),  # JSON [[sku, quantity], ...]
    Column("reason", String(24), nullable=False),
    Column("note", Text, nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("total_units", BigInteger, nullable=False),
    Column("total_nanos", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("stock_movements", Text, nullable=False),  # JSON list of names
    Column("creator_id", String(36), nullable=False),
    Column("returned_at", UtcDateTime, nullable=False),
    Column("booked_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    Index("ix_order_returns_order", "tenant_id", "order_id"),
)

numbers = Table(
    "order_numbers",
    metadata,
    Column("tenant_id", String(36), primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

idempotency_records = idempotency.table(metadata)
