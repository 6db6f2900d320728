"""svc_procure's tables and queries (SQLAlchemy Core; SQLite and PostgreSQL).

A purchase order is one aggregate: its lines live in the order's row as JSON,
so a receipt changes the order in one conditional UPDATE (on the version),
which is the order's lock. Receipts are their own rows: the booking loop
reads and marks them without touching the order.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, idempotency
from kit.db import UtcDateTime
from svc_procure.domain import (
    OPEN,
    OrderLine,
    PurchaseOrder,
    PurchaseOrderState,
    Receipt,
    ReceiptState,
    Status,
    Supplier,
    SupplierItem,
)

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


def _names(table: Table) -> list[str]:
    return [column.name for column in table.columns]


def _supplier(row: Any) -> Supplier:
    return Supplier(
        id=row.id,
        tenant_id=row.tenant_id,
        display_name=row.display_name,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        contact_phone=row.contact_phone,
        currency_code=row.currency_code,
        default_lead_time_days=row.default_lead_time_days,
        note=row.note,
        status=Status(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        version=row.version,
    )


def _item(row: Any) -> SupplierItem:
    return SupplierItem(
        id=row.id,
        tenant_id=row.tenant_id,
        supplier_id=row.supplier_id,
        sku=row.sku,
        supplier_sku=row.supplier_sku,
        unit_cost_nanos=row.unit_cost_nanos,
        lead_time_days=row.lead_time_days,
        minimum_order_quantity=row.minimum_order_quantity,
        pack_size=row.pack_size,
        preferred=row.preferred,
        status=Status(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _order(row: Any) -> PurchaseOrder:
    return PurchaseOrder(
        id=row.id,
        tenant_id=row.tenant_id,
        number=row.number,
        supplier_id=row.supplier_id,
        warehouse_id=row.warehouse_id,
        state=PurchaseOrderState(row.state),
        lines=tuple(OrderLine(**line) for line in json.loads(row.lines)),
        currency_code=row.currency_code,
        expected_delivery_at=row.expected_delivery_at,
        supplier_reference=row.supplier_reference,
        note=row.note,
        creator=row.creator,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        version=row.version,
    )


def _receipt(row: Any) -> Receipt:
    return Receipt(
        id=row.id,
        tenant_id=row.tenant_id,
        purchase_order_id=row.purchase_order_id,
        warehouse_id=row.warehouse_id,
        lines=tuple((sku, qty) for sku, qty in json.loads(row.lines)),
        state=ReceiptState(row.state),
        delivery_note=row.delivery_note,
        note=row.note,
        receiver=row.receiver,
        stock_movements=tuple(json.loads(row.stock_movements)),
        received_at=row.received_at,
        booked_at=row.booked_at,
    )


def _order_row(o: PurchaseOrder) -> dict[str, Any]:
    values = {k: getattr(o, k) for k in _names(purchase_orders) if k != "lines"}
    values["state"] = o.state.value
    values["lines"] = json.dumps([dataclasses.asdict(line) for line in o.lines])
    return values


async def insert_supplier(conn: AsyncConnection, s: Supplier) -> None:
    values = {k: getattr(s, k) for k in _names(suppliers)}
    values["status"] = s.status.value
    await conn.execute(insert(suppliers).values(**values))


async def supplier(conn: AsyncConnection, tenant_id: str, supplier_id: str) -> Supplier | None:
    row = (
        await conn.execute(
            select(suppliers).where(suppliers.c.tenant_id == tenant_id, suppliers.c.id == supplier_id)
        )
    ).first()
    return None if row is None else _supplier(row)


async def active_suppliers(conn: AsyncConnection, tenant_id: str) -> dict[str, Supplier]:
    rows = await conn.execute(
        select(suppliers).where(suppliers.c.tenant_id == tenant_id, suppliers.c.status == Status.ACTIVE.value)
    )
    return {row.id: _supplier(row) for row in rows}


async def insert_item(conn: AsyncConnection, item: SupplierItem) -> bool:
    """False when the supplier already has an item of this SKU or supplier SKU."""
    taken = await conn.execute(
        select(supplier_items.c.id).where(
            supplier_items.c.tenant_id == item.tenant_id,
            supplier_items.c.supplier_id == item.supplier_id,
            (supplier_items.c.sku == item.sku) | (supplier_items.c.supplier_sku == item.supplier_sku),
        )
    )
    if taken.first() is not None:
        return False
    values = {k: getattr(item, k) for k in _names(supplier_items)}
    values["status"] = item.status.value
    await conn.execute(insert(supplier_items).values(**values))
    return True


async def item(conn: AsyncConnection, tenant_id: str, supplier_id: str, item_id: str) -> SupplierItem | None:
    row = (
        await conn.execute(
            select(supplier_items).where(
                supplier_items.c.tenant_id == tenant_id,
                supplier_items.c.supplier_id == supplier_id,
                supplier_items.c.id == item_id,
            )
        )
    ).first()
    return None if row is None else _item(row)


async def active_items(
    conn: AsyncConnection, tenant_id: str, skus: Sequence[str], supplier_id: str | None = None
) -> list[SupplierItem]:
    query = select(supplier_items).where(
        supplier_items.c.tenant_id == tenant_id,
        supplier_items.c.sku.in_(list(skus)),
        supplier_items.c.status == Status.ACTIVE.value,
    )
    if supplier_id is not None:
        query = query.where(supplier_items.c.supplier_id == supplier_id)
    return [_item(row) for row in await conn.execute(query)]


async def insert_order(conn: AsyncConnection, o: PurchaseOrder) -> None:
    await conn.execute(insert(purchase_orders).values(**_order_row(o)))


async def order(
    conn: AsyncConnection, tenant_id: str, order_id: str, *, lock: bool = False
) -> PurchaseOrder | None:
    """`lock`: hold the order's row until the transaction ends, so concurrent
    changes of one order (two receipts at the same dock) queue instead of one
    failing on the version check. (SQLite writers are serialized anyway.)"""
    query = select(purchase_orders).where(
        purchase_orders.c.tenant_id == tenant_id, purchase_orders.c.id == order_id
    )
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else _order(row)


async def save_order(conn: AsyncConnection, o: PurchaseOrder, *, expected_version: int) -> bool:
    """Write `o` if the stored order is still at `expected_version`."""
    result = await conn.execute(
        update(purchase_orders)
        .where(
            purchase_orders.c.tenant_id == o.tenant_id,
            purchase_orders.c.id == o.id,
            purchase_orders.c.version == expected_version,
        )
        .values(**_order_row(o))
    )
    return bool(result.rowcount)


async def incoming(conn: AsyncConnection, tenant_id: str, warehouse_id: str) -> list[PurchaseOrder]:
    """DRAFT, SUBMITTED and PARTIALLY_RECEIVED orders into a warehouse."""
    states = [PurchaseOrderState.DRAFT.value, *(s.value for s in OPEN)]
    rows = await conn.execute(
        select(purchase_orders).where(
            purchase_orders.c.tenant_id == tenant_id,
            purchase_orders.c.warehouse_id == warehouse_id,
            purchase_orders.c.state.in_(states),
        )
    )
    return [_order(row) for row in rows]


async def insert_receipt(conn: AsyncConnection, r: Receipt) -> None:
    values = {k: getattr(r, k) for k in _names(receipts) if hasattr(r, k)}
    values.update(
        state=r.state.value,
        lines=json.dumps([list(line) for line in r.lines]),
        stock_movements=json.dumps(list(r.stock_movements)),
    )
    await conn.execute(insert(receipts).values(**values))


async def receipt(conn: AsyncConnection, tenant_id: str, order_id: str, receipt_id: str) -> Receipt | None:
    row = (
        await conn.execute(
            select(receipts).where(
                receipts.c.tenant_id == tenant_id,
                receipts.c.purchase_order_id == order_id,
                receipts.c.id == receipt_id,
            )
        )
    ).first()
    return None if row is None else _receipt(row)


async def pending_receipts(conn: AsyncConnection, limit: int) -> list[Receipt]:
    """PENDING receipts of every tenant, oldest first."""
    rows = await conn.execute(
        select(receipts)
        .where(receipts.c.state == ReceiptState.PENDING.value)
        .order_by(receipts.c.received_at)
        .limit(limit)
    )
    return [_receipt(row) for row in rows]


async def mark_booked(
    conn: AsyncConnection, r: Receipt, movements: Sequence[str], booked_at: datetime
) -> bool:
    """PENDING -> BOOKED; False if it was booked already (by a concurrent attempt)."""
    result = await conn.execute(
        update(receipts)
        .where(
            receipts.c.tenant_id == r.tenant_id,
            receipts.c.id == r.id,
            receipts.c.state == ReceiptState.PENDING.value,
        )
        .values(
            state=ReceiptState.BOOKED.value,
            stock_movements=json.dumps(list(movements)),
            booked_at=booked_at,
        )
    )
    return bool(result.rowcount)


async def save_supplier(conn: AsyncConnection, s: Supplier, *, expected_version: int) -> bool:
    values = {k: getattr(s, k) for k in _names(suppliers)}
    values["status"] = s.status.value
    result = await conn.execute(
        update(suppliers)
        .where(
            suppliers.c.tenant_id == s.tenant_id,
            suppliers.c.id == s.id,
            suppliers.c.version == expected_version,
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def save_item(conn: AsyncConnection, i: SupplierItem, *, expected_version: int) -> bool:
    values = {k: getattr(i, k) for k in _names(supplier_items)}
    values["status"] = i.status.value
    result = await conn.execute(
        update(supplier_items)
        .where(
            supplier_items.c.tenant_id == i.tenant_id,
            supplier_items.c.id == i.id,
            supplier_items.c.version == expected_version,
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def supplier_sku_taken(conn: AsyncConnection, i: SupplierItem) -> bool:
    """Another item of the same supplier already uses i.supplier_sku."""
    row = await conn.execute(
        select(supplier_items.c.id).where(
            supplier_items.c.tenant_id == i.tenant_id,
            supplier_items.c.supplier_id == i.supplier_id,
            supplier_items.c.supplier_sku == i.supplier_sku,
            supplier_items.c.id != i.id,
        )
    )
    return row.first() is not None


async def list_suppliers(
    conn: AsyncConnection, tenant_id: str, status: str, after: tuple[str, str] | None
) -> list[Supplier]:
    """Suppliers by (display_name, id) after the cursor. All of them: a tenant
    has tens or hundreds, and the free-text filter runs on them in Python."""
    query = select(suppliers).where(suppliers.c.tenant_id == tenant_id)
    if status:
        query = query.where(suppliers.c.status == status)
    if after is not None:
        query = query.where(tuple_(suppliers.c.display_name, suppliers.c.id) > tuple_(*after))
    rows = await conn.execute(query.order_by(suppliers.c.display_name, suppliers.c.id))
    return [_supplier(row) for row in rows]


async def list_items(
    conn: AsyncConnection,
    tenant_id: str,
    supplier_id: str,
    sku: str,
    status: str,
    after: tuple[str, str, str] | None,
    limit: int,
) -> list[SupplierItem]:
    """Items by (supplier_id, sku, id) after the cursor."""
    c = supplier_items.c
    query = select(supplier_items).where(c.tenant_id == tenant_id)
    if supplier_id:
        query = query.where(c.supplier_id == supplier_id)
    if sku:
        query = query.where(c.sku == sku)
    if status:
        query = query.where(c.status == status)
    if after is not None:
        query = query.where(tuple_(c.supplier_id, c.sku, c.id) > tuple_(*after))
    rows = await conn.execute(query.order_by(c.supplier_id, c.sku, c.id).limit(limit))
    return [_item(row) for row in rows]


async def list_orders(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    states: Sequence[str],
    supplier_id: str,
    warehouse_id: str,
    sku: str,
    start: datetime | None,
    end: datetime | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[PurchaseOrder]:
    """Orders newest first, (created_at, id) below the cursor."""
    c = purchase_orders.c
    query = select(purchase_orders).where(c.tenant_id == tenant_id)
    if states:
        query = query.where(c.state.in_(list(states)))
    if supplier_id:
        query = query.where(c.supplier_id == supplier_id)
    if warehouse_id:
        query = query.where(c.warehouse_id == warehouse_id)
    if sku:
        # The lines are JSON written by json.dumps: a line of this SKU contains
        # exactly this text (autoescape keeps "_" and "%" literal).
        query = query.where(c.lines.contains(json.dumps({"sku": sku})[1:-1] + ",", autoescape=True))
    if start is not None:
        query = query.where(c.created_at >= start)
    if end is not None:
        query = query.where(c.created_at < end)
    if before is not None:
        query = query.where(tuple_(c.created_at, c.id) < tuple_(*before))
    rows = await conn.execute(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit))
    return [_order(row) for row in rows]


async def list_receipts(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    order_id: str,
    warehouse_id: str,
    state: str,
    start: datetime | None,
    end: datetime | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Receipt]:
    """Receipts newest first, (received_at, id) below the cursor."""
    c = receipts.c
    query = select(receipts).where(c.tenant_id == tenant_id)
    if order_id:
        query = query.where(c.purchase_order_id == order_id)
    if warehouse_id:
        query = query.where(c.warehouse_id == warehouse_id)
    if state:
        query = query.where(c.state == state)
    if start is not None:
        query = query.where(c.received_at >= start)
    if end is not None:
        query = query.where(c.received_at < end)
    if before is not None:
        query = query.where(tuple_(c.received_at, c.id) < tuple_(*before))
    rows = await conn.execute(query.order_by(c.received_at.desc(), c.id.desc()).limit(limit))
    return [_receipt(row) for row in rows]
