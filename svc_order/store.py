"""svc_order's tables and queries (SQLAlchemy Core; SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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
    and_,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, idempotency
from kit.db import UtcDateTime
from svc_order.domain import (
    Line,
    Money,
    Order,
    OrderReturn,
    OrderStatus,
    ReturnReason,
    ReturnState,
    SalesChannel,
    Shipment,
)

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


async def next_number(conn: AsyncConnection, tenant_id: str) -> int:
    """The tenant's next order number; the row stays locked until commit, so
    numbers increase in commit order."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(numbers)
        .values(tenant_id=tenant_id, last_number=1)
        .on_conflict_do_update(
            index_elements=[numbers.c.tenant_id], set_={"last_number": numbers.c.last_number + 1}
        )
        .returning(numbers.c.last_number)
    )
    return int((await conn.execute(statement)).scalar_one())


def _order_row(order: Order) -> dict[str, Any]:
    return {
        "status": order.status.value,
        "reservation_id": order.reservation_id,
        "hold_expire_at": order.hold_expire_at,
        "carrier": order.shipment.carrier if order.shipment else None,
        "tracking_number": order.shipment.tracking_number if order.shipment else None,
        "shipped_at": order.shipment.shipped_at if order.shipment else None,
        "updated_at": order.updated_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
        "version": order.version,
    }


def _line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "position": i,
            "sku": line.sku,
            "quantity": line.quantity,
            "description": line.description,
            "list_price_currency": line.list_price.currency_code,
            "list_price_units": line.list_price.units,
            "list_price_nanos": line.list_price.nanos,
            "unit_price_units": line.unit_price.units,
            "unit_price_nanos": line.unit_price.nanos,
            "shipped_quantity": line.shipped_quantity,
            "returned_quantity": line.returned_quantity,
        }
        for i, line in enumerate(order.lines)
    ]


async def insert_order(conn: AsyncConnection, order: Order) -> None:
    await conn.execute(
        insert(orders).values(
            tenant_id=order.tenant_id,
            id=order.id,
            number=order.number,
            channel=order.channel.value,
            external_id=order.external_id or None,
            customer=order.customer,
            warehouse_id=order.warehouse_id,
            currency_code=order.currency_code,
            note=order.note,
            order_time=order.order_time,
            creator_id=order.creator_id,
            created_at=order.created_at,
            imported=order.imported,
            **_order_row(order),
        )
    )
    await conn.execute(insert(lines), _line_rows(order))


async def update_order(conn: AsyncConnection, order: Order, *, lines_changed: bool = False) -> None:
    """Writes the order's state if its version is still the one before (the
    caller holds the row lock; the check guards against a caller that does not)."""
    result = await conn.execute(
        update(orders)
        .where(
            orders.c.tenant_id == order.tenant_id,
            orders.c.id == order.id,
            orders.c.version == order.version - 1,
        )
        .values(**_order_row(order))
    )
    if result.rowcount != 1:
        raise RuntimeError(f"order {order.id} changed under its lock")
    if lines_changed:
        for i, line in enumerate(order.lines):
            await conn.execute(
                update(lines)
                .where(
                    lines.c.tenant_id == order.tenant_id, lines.c.order_id == order.id, lines.c.position == i
                )
                .values(shipped_quantity=line.shipped_quantity, returned_quantity=line.returned_quantity)
            )


async def insert_return(conn: AsyncConnection, tenant_id: str, r: OrderReturn) -> None:
    await conn.execute(
        insert(returns).values(
            tenant_id=tenant_id,
            id=r.id,
            order_id=r.order_id,
            lines=json.dumps([list(pair) for pair in r.lines]),
            reason=r.reason.value,
            note=r.note,
            warehouse_id=r.warehouse_id,
            total_units=r.total.units,
            total_nanos=r.total.nanos,
            state=r.state.value,
            stock_movements=json.dumps(list(r.stock_movements)),
            creator_id=r.creator_id,
            returned_at=r.returned_at,
            booked_at=r.booked_at,
        )
    )


async def mark_return_booked(
    conn: AsyncConnection, tenant_id: str, return_id: str, movements: Sequence[str], at: datetime
) -> None:
    """PENDING -> BOOKED; a return booked already (a concurrent attempt) stays as it is."""
    await conn.execute(
        update(returns)
        .where(
            returns.c.tenant_id == tenant_id,
            returns.c.id == return_id,
            returns.c.state == ReturnState.PENDING.value,
        )
        .values(state=ReturnState.BOOKED.value, stock_movements=json.dumps(list(movements)), booked_at=at)
    )


@dataclass(frozen=True)
class PendingReturn:
    """What booking a PENDING return in svc_stock needs."""

    tenant_id: str
    id: str
    order_id: str
    lines: tuple[tuple[str, int], ...]
    warehouse_id: str
    note: str


async def pending_returns(conn: AsyncConnection, limit: int) -> list[PendingReturn]:
    """PENDING returns of every tenant, oldest first."""
    rows = await conn.execute(
        select(returns)
        .where(returns.c.state == ReturnState.PENDING.value)
        .order_by(returns.c.returned_at)
        .limit(limit)
    )
    return [
        PendingReturn(
            r.tenant_id,
            r.id,
            r.order_id,
            tuple((sku, int(q)) for sku, q in json.loads(r.lines)),
            r.warehouse_id,
            r.note,
        )
        for r in rows
    ]


async def order(conn: AsyncConnection, tenant_id: str, order_id: str, *, lock: bool = False) -> Order | None:
    query = select(orders).where(orders.c.tenant_id == tenant_id, orders.c.id == order_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = await _orders(conn, tenant_id, query)
    return found[0] if found else None


async def order_by_external_id(
    conn: AsyncConnection, tenant_id: str, channel: SalesChannel, external_id: str
) -> Order | None:
    query = select(orders).where(
        orders.c.tenant_id == tenant_id,
        orders.c.channel == channel.value,
        orders.c.external_id == external_id,
    )
    found = await _orders(conn, tenant_id, query)
    return found[0] if found else None


async def list_orders(
    conn: AsyncConnection,
    tenant_id: str,
    filters: dict[str, Any],
    before: tuple[datetime, str] | None,
    limit: int,
    now: datetime,
) -> list[Order]:
    """Newest order_time first. `statuses` compares what callers see: a lapsed
    RESERVED order is EXPIRED."""
    c = orders.c
    query = select(orders).where(c.tenant_id == tenant_id)
    statuses: Sequence[OrderStatus] = filters.get("statuses") or ()
    if statuses:
        seen = []
        for status in statuses:
            if status is OrderStatus.RESERVED:
                seen.append(and_(c.status == status.value, c.hold_expire_at > now))
            elif status is OrderStatus.EXPIRED:
                seen.append(
                    or_(
                        c.status == status.value,
                        and_(c.status == OrderStatus.RESERVED.value, c.hold_expire_at <= now),
                    )
                )
            else:
                seen.append(c.status == status.value)
        query = query.where(or_(*seen))
    for key in ("channel", "customer", "warehouse_id", "external_id"):
        if filters.get(key):
            query = query.where(c[key] == filters[key])
    if filters.get("sku"):
        query = query.where(
            exists().where(
                lines.c.tenant_id == c.tenant_id, lines.c.order_id == c.id, lines.c.sku == filters["sku"]
            )
        )
    if filters.get("start"):
        query = query.where(c.order_time >= filters["start"])
    if filters.get("end"):
        query = query.where(c.order_time < filters["end"])
    if before:
        query = query.where(or_(c.order_time < before[0], and_(c.order_time == before[0], c.id < before[1])))
    query = query.order_by(c.order_time.desc(), c.id.desc()).limit(limit)
    return await _orders(conn, tenant_id, query)


async def expire_lapsed(conn: AsyncConnection, now: datetime) -> int:
    """Marks RESERVED orders past their hold EXPIRED (svc_stock frees the stock)."""
    result = await conn.execute(
        update(orders)
        .where(orders.c.status == OrderStatus.RESERVED.value, orders.c.hold_expire_at <= now)
        .values(
            status=OrderStatus.EXPIRED.value,
            cancelled_at=orders.c.hold_expire_at,
            updated_at=now,
            version=orders.c.version + 1,
        )
    )
    return int(result.rowcount or 0)


async def _orders(conn: AsyncConnection, tenant_id: str, query: Any) -> list[Order]:
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    line_rows = (
        await conn.execute(
            select(lines)
            .where(lines.c.tenant_id == tenant_id, lines.c.order_id.in_(ids))
            .order_by(lines.c.order_id, lines.c.position)
        )
    ).all()
    return_rows = (
        await conn.execute(
            select(returns)
            .where(returns.c.tenant_id == tenant_id, returns.c.order_id.in_(ids))
            .order_by(returns.c.returned_at, returns.c.id)
        )
    ).all()
    by_order: dict[str, list[Line]] = {i: [] for i in ids}
    for r in line_rows:
        by_order[r.order_id].append(
            Line(
                r.sku,
                r.quantity,
                r.description,
                Money(r.list_price_currency, r.list_price_units, r.list_price_nanos),
                Money(r.list_price_currency, r.unit_price_units, r.unit_price_nanos),
                r.shipped_quantity,
                r.returned_quantity,
            )
        )
    returns_of: dict[str, list[OrderReturn]] = {i: [] for i in ids}
    currency = {row.id: row.currency_code for row in rows}
    for r in return_rows:
        returns_of[r.order_id].append(
            OrderReturn(
                id=r.id,
                order_id=r.order_id,
                lines=tuple((sku, int(q)) for sku, q in json.loads(r.lines)),
                reason=ReturnReason(r.reason),
                note=r.note,
                warehouse_id=r.warehouse_id,
                total=Money(currency[r.order_id], r.total_units, r.total_nanos),
                state=ReturnState(r.state),
                stock_movements=tuple(json.loads(r.stock_movements)),
                creator_id=r.creator_id,
                returned_at=r.returned_at,
                booked_at=r.booked_at,
            )
        )
    return [
        Order(
            id=row.id,
            tenant_id=row.tenant_id,
            number=row.number,
            channel=SalesChannel(row.channel),
            external_id=row.external_id or "",
            customer=row.customer,
            warehouse_id=row.warehouse_id,
            status=OrderStatus(row.status),
            lines=tuple(by_order[row.id]),
            currency_code=row.currency_code,
            reservation_id=row.reservation_id,
            hold_expire_at=row.hold_expire_at,
            shipment=Shipment(row.carrier or "", row.tracking_number or "", row.shipped_at)
            if row.shipped_at
            else None,
            returns=tuple(returns_of[row.id]),
            note=row.note,
            order_time=row.order_time,
            creator_id=row.creator_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            cancelled_at=row.cancelled_at,
            cancel_reason=row.cancel_reason,
            version=row.version,
            imported=row.imported,
        )
        for row in rows
    ]


async def forget_order(
    conn: AsyncConnection, tenant_id: str, order_id: str, key: idempotency.Key | None
) -> None:
    """Removes an order whose stock hold could not be confirmed (still at its
    first version), and the request's record, so a retry starts afresh."""
    await conn.execute(lines.delete().where(lines.c.tenant_id == tenant_id, lines.c.order_id == order_id))
    await conn.execute(orders.delete().where(orders.c.tenant_id == tenant_id, orders.c.id == order_id))
    if key is not None:
        await conn.execute(
            idempotency_records.delete().where(
                idempotency_records.c.scope == key.scope, idempotency_records.c.request_id == key.request_id
            )
        )
