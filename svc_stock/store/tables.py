"""svc_stock's tables (SQLAlchemy Core; SQLite and PostgreSQL), and the row
each domain object is written as: the Core statements and the PostgreSQL
batch statements write the same rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
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
    text,
)

from kit import db, idempotency
from kit.db import UtcDateTime
from svc_stock.domain import Movement, Reservation

metadata = db.metadata()

warehouses = Table(
    "warehouses",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("code", String(16), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("address", Text, nullable=False),  # JSON
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "code"),
)

levels = Table(
    "stock_levels",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("reorder_point", BigInteger, nullable=False),
    Column("reorder_quantity", BigInteger, nullable=False),
    Column("last_count_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "warehouse_id", "sku"),
    ForeignKeyConstraint(["tenant_id", "warehouse_id"], ["warehouses.tenant_id", "warehouses.id"]),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    CheckConstraint("reorder_point >= 0 AND reorder_quantity >= 0", name="reorder_policy_not_negative"),
)

# Per-tenant ledger sequence. Taken last in every writing transaction (after
# the level rows), so it is held only for the movement insert and the commit,
# and sequences appear in commit order.
sequences = Table(
    "ledger_sequences",
    metadata,
    Column("tenant_id", String(36), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

# The tenants some process's live-stream hub watches, until `expires_at`
# unless refreshed: appends announce themselves only for these (`feed_store`).
ledger_watchers = Table(
    "stock_ledger_watchers",
    metadata,
    Column("tenant_id", String(36), primary_key=True),
    Column("watcher", String(200), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
)

movements = Table(
    "movements",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("type", String(16), nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity_delta", BigInteger, nullable=False),
    Column("reserved_delta", BigInteger, nullable=False),
    Column("on_hand_after", BigInteger, nullable=False),
    Column("reserved_after", BigInteger, nullable=False),
    Column("reason", String(24), nullable=True),
    Column("note", Text, nullable=False),
    Column("reference", String(200), nullable=False),
    Column("reservation_id", String(36), nullable=False),
    Column("counterpart_warehouse_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("caller", String(200), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "sequence"),
    # A level's history. It carries the deltas, type and time, so a level's
    # sums (reconciliation), its demand and its last sequence are read from
    # the index alone on PostgreSQL, in SKU order, without visiting the
    # ledger's rows scattered over the table.
    Index(
        "ix_movements_level_history",
        "tenant_id",
        "warehouse_id",
        "sku",
        "sequence",
        postgresql_include=["quantity_delta", "reserved_delta", "type", "effective_at"],
    ),
    Index(None, "tenant_id", "sku", "sequence"),  # an SKU's history across warehouses
    Index(None, "tenant_id", "reference"),
    Index(None, "tenant_id", "reservation_id"),
    Index(None, "tenant_id", "warehouse_id", "type", "effective_at"),
    Index(None, "tenant_id", "created_at"),  # a time window (ListMovements)
)

ACTIVE_ONLY = "state = 'active'"

reservations = Table(
    "reservations",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("expire_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "state", "expire_at"),
    # A tenant's active holds by expiry: the lapsed holds a reservation batch
    # frees (store/pg_batches.py); only active rows, so a long history adds nothing.
    Index(None, "tenant_id", "expire_at", postgresql_where=text(ACTIVE_ONLY), sqlite_where=text(ACTIVE_ONLY)),
    Index(None, "tenant_id", "reference"),
    Index(None, "tenant_id", "created_at"),
)

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column("tenant_id", String(36), nullable=False),
    Column("reservation_id", String(36), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("warehouse_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    # No foreign key to `reservations`: lines are written only in the
    # statement or transaction that writes their reservation, and the check
    # would run once per line on the hot path (migration 0002 says more).
    PrimaryKeyConstraint("tenant_id", "reservation_id", "line_no"),
    UniqueConstraint("tenant_id", "reservation_id", "warehouse_id", "sku"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index(None, "tenant_id", "warehouse_id", "sku"),
)

idempotency_records = idempotency.table(metadata)


def movement_row(tenant_id: str, m: Movement) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": m.id,
        "sequence": m.sequence,
        "type": m.type.value,
        "warehouse_id": m.warehouse_id,
        "sku": m.sku,
        "quantity_delta": m.quantity_delta,
        "reserved_delta": m.reserved_delta,
        "on_hand_after": m.on_hand_after,
        "reserved_after": m.reserved_after,
        "reason": m.reason.value if m.reason else None,
        "note": m.note,
        "reference": m.reference,
        "reservation_id": m.reservation_id,
        "counterpart_warehouse_id": m.counterpart_warehouse_id,
        "user_id": m.user_id,
        "caller": m.caller,
        "request_id": m.request_id,
        "trace_id": m.trace_id,
        "effective_at": m.effective_at,
        "created_at": m.created_at,
    }


def reservation_row(r: Reservation) -> dict[str, Any]:
    return {
        "tenant_id": r.tenant_id,
        "id": r.id,
        "reference": r.reference,
        "state": r.state.value,
        "expire_at": r.expire_at,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "ended_at": r.ended_at,
        "version": r.version,
    }


def line_rows(r: Reservation) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": r.tenant_id,
            "reservation_id": r.id,
            "line_no": i,
            "warehouse_id": line.warehouse_id,
            "sku": line.sku,
            "quantity": line.quantity,
        }
        for i, line in enumerate(r.lines)
    ]
