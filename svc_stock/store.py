"""svc_stock's tables and queries (SQLAlchemy Core; SQLite and PostgreSQL).

Level changes are single conditional statements: the invariant is the WHERE
clause, so the row lock a change takes is held for as few round trips as
possible, and a refused change touches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import psycopg
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
    and_,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, idempotency
from kit.db import UtcDateTime
from svc_stock import feed_store
from svc_stock.domain import (
    Address,
    AdjustmentReason,
    Level,
    Line,
    Movement,
    MovementType,
    Provenance,
    Reservation,
    ReservationState,
    Warehouse,
    WarehouseStatus,
)

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
    Index(None, "tenant_id", "warehouse_id", "sku", "sequence"),
    Index(None, "tenant_id", "reference"),
    Index(None, "tenant_id", "reservation_id"),
    Index(None, "tenant_id", "warehouse_id", "type", "effective_at"),
)

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


# --- warehouses --------------------------------------------------------------


def _warehouse(row: Any) -> Warehouse:
    raw = json.loads(row.address)
    return Warehouse(
        id=row.id,
        tenant_id=row.tenant_id,
        code=row.code,
        display_name=row.display_name,
        address=Address(
            tuple(raw.get("lines", ())),
            raw.get("locality", ""),
            raw.get("administrative_area", ""),
            raw.get("postal_code", ""),
            raw.get("region_code", ""),
        ),
        status=WarehouseStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        version=row.version,
    )


def _address(address: Address) -> str:
    return json.dumps(
        {
            "lines": list(address.lines),
            "locality": address.locality,
            "administrative_area": address.administrative_area,
            "postal_code": address.postal_code,
            "region_code": address.region_code,
        }
    )


async def insert_warehouse(conn: AsyncConnection, w: Warehouse) -> None:
    await conn.execute(
        insert(warehouses).values(
            tenant_id=w.tenant_id,
            id=w.id,
            code=w.code,
            display_name=w.display_name,
            address=_address(w.address),
            status=w.status.value,
            created_at=w.created_at,
            updated_at=w.updated_at,
            archived_at=w.archived_at,
            version=w.version,
        )
    )


async def warehouse(conn: AsyncConnection, tenant_id: str, warehouse_id: str) -> Warehouse | None:
    query = select(warehouses).where(warehouses.c.tenant_id == tenant_id, warehouses.c.id == warehouse_id)
    row = (await conn.execute(query)).first()
    return _warehouse(row) if row else None


async def warehouses_by_id(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, Warehouse]:
    query = select(warehouses).where(warehouses.c.tenant_id == tenant_id, warehouses.c.id.in_(set(ids)))
    return {row.id: _warehouse(row) for row in (await conn.execute(query)).all()}


async def code_taken(conn: AsyncConnection, tenant_id: str, code: str) -> bool:
    query = select(warehouses.c.id).where(warehouses.c.tenant_id == tenant_id, warehouses.c.code == code)
    return (await conn.execute(query)).first() is not None


async def list_warehouses(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    after_code: str,
    limit: int,
    status: WarehouseStatus | None,
    code: str,
) -> list[Warehouse]:
    query = select(warehouses).where(warehouses.c.tenant_id == tenant_id, warehouses.c.code > after_code)
    if status is not None:
        query = query.where(warehouses.c.status == status.value)
    if code:
        query = query.where(warehouses.c.code == code)
    rows = (await conn.execute(query.order_by(warehouses.c.code).limit(limit))).all()
    return [_warehouse(r) for r in rows]


async def save_warehouse(conn: AsyncConnection, w: Warehouse, *, expected_version: int) -> bool:
    result = await conn.execute(
        update(warehouses)
        .where(
            warehouses.c.tenant_id == w.tenant_id,
            warehouses.c.id == w.id,
            warehouses.c.version == expected_version,
        )
        .values(
            display_name=w.display_name,
            address=_address(w.address),
            status=w.status.value,
            updated_at=w.updated_at,
            archived_at=w.archived_at,
            version=w.version,
        )
    )
    return result.rowcount == 1


async def warehouse_holds_anything(conn: AsyncConnection, tenant_id: str, warehouse_id: str) -> bool:
    query = select(levels.c.sku).where(
        levels.c.tenant_id == tenant_id,
        levels.c.warehouse_id == warehouse_id,
        (levels.c.on_hand != 0) | (levels.c.reserved != 0),
    )
    return (await conn.execute(query.limit(1))).first() is not None


# --- levels ------------------------------------------------------------------


def _level_query(tenant_id: str) -> Any:
    # The last movement's sequence is derived on read, so no write has to
    # touch the level row a second time after the sequence is allocated.
    last_sequence = (
        select(func.max(movements.c.sequence))
        .where(
            movements.c.tenant_id == levels.c.tenant_id,
            movements.c.warehouse_id == levels.c.warehouse_id,
            movements.c.sku == levels.c.sku,
        )
        .scalar_subquery()
    )
    return select(levels, last_sequence.label("last_sequence")).where(levels.c.tenant_id == tenant_id)


def _level(row: Any, last_sequence: int | None = None) -> Level:
    return Level(
        warehouse_id=row.warehouse_id,
        sku=row.sku,
        on_hand=row.on_hand,
        reserved=row.reserved,
        reorder_point=row.reorder_point,
        reorder_quantity=row.reorder_quantity,
        updated_at=row.updated_at,
        version=row.version,
        last_movement_sequence=last_sequence if last_sequence is not None else (row.last_sequence or 0),
        last_count_at=row.last_count_at,
    )


async def levels_by_key(
    conn: AsyncConnection, tenant_id: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Level]:
    if not keys:
        return {}
    query = _level_query(tenant_id).where(tuple_(levels.c.warehouse_id, levels.c.sku).in_(list(set(keys))))
    return {(row.warehouse_id, row.sku): _level(row) for row in (await conn.execute(query)).all()}


async def list_levels(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    warehouse_id: str | None,
    skus: Sequence[str],
    after: tuple[str, str] | None,
    limit: int,
    low_only: bool = False,
) -> list[Level]:
    query = _level_query(tenant_id)
    if warehouse_id is not None:
        query = query.where(levels.c.warehouse_id == warehouse_id)
    if skus:
        query = query.where(levels.c.sku.in_(list(skus)))
    if after is not None:
        query = query.where(tuple_(levels.c.warehouse_id, levels.c.sku) > tuple_(*after))
    if low_only:
        query = query.where(
            levels.c.reorder_quantity > 0, levels.c.on_hand - levels.c.reserved <= levels.c.reorder_point
        )
    rows = (await conn.execute(query.order_by(levels.c.warehouse_id, levels.c.sku).limit(limit))).all()
    return [_level(r) for r in rows]


async def set_reorder_policy(
    conn: AsyncConnection,
    tenant_id: str,
    warehouse_id: str,
    sku: str,
    point: int,
    quantity: int,
    now: datetime,
) -> None:
    await _upsert_level(
        conn,
        tenant_id,
        warehouse_id,
        sku,
        now,
        values={"reorder_point": point, "reorder_quantity": quantity},
        on_conflict={"reorder_point": point, "reorder_quantity": quantity},
    )


async def _upsert_level(
    conn: AsyncConnection,
    tenant_id: str,
    warehouse_id: str,
    sku: str,
    now: datetime,
    *,
    values: dict[str, Any],
    on_conflict: dict[str, Any],
) -> Any:
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    row = {
        "tenant_id": tenant_id,
        "warehouse_id": warehouse_id,
        "sku": sku,
        "on_hand": 0,
        "reserved": 0,
        "reorder_point": 0,
        "reorder_quantity": 0,
        "last_count_at": None,
        "updated_at": now,
        "version": 1,
        **values,
    }
    statement: Any = dialect_insert(levels).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=[levels.c.tenant_id, levels.c.warehouse_id, levels.c.sku],
        set_={**on_conflict, "updated_at": now, "version": levels.c.version + 1},
    ).returning(*levels.c)
    return (await conn.execute(statement)).one()


async def add_stock(
    conn: AsyncConnection, tenant_id: str, warehouse_id: str, sku: str, quantity: int, now: datetime
) -> Level:
    """on_hand += quantity (> 0), creating the level on first receipt."""
    row = await _upsert_level(
        conn,
        tenant_id,
        warehouse_id,
        sku,
        now,
        values={"on_hand": quantity},
        on_conflict={"on_hand": levels.c.on_hand + quantity},
    )
    return _level(row, 0)


async def change_level(
    conn: AsyncConnection,
    tenant_id: str,
    warehouse_id: str,
    sku: str,
    *,
    on_hand_delta: int,
    reserved_delta: int,
    now: datetime,
    counted: bool = False,
) -> Level | None:
    """Apply the deltas unless the level would then hold more reserved than
    on hand; None if it would (or there is no level). One statement: the check
    and the change under one row lock."""
    values: dict[str, Any] = {
        "on_hand": levels.c.on_hand + on_hand_delta,
        "reserved": levels.c.reserved + reserved_delta,
        "updated_at": now,
        "version": levels.c.version + 1,
    }
    if counted:
        values["last_count_at"] = now
    result = await conn.execute(
        update(levels)
        .where(
            levels.c.tenant_id == tenant_id,
            levels.c.warehouse_id == warehouse_id,
            levels.c.sku == sku,
            levels.c.on_hand + on_hand_delta >= levels.c.reserved + reserved_delta,
        )
        .values(**values)
        .returning(*levels.c)
    )
    row = result.first()
    return _level(row, 0) if row else None


async def count_level(
    conn: AsyncConnection, tenant_id: str, warehouse_id: str, sku: str, counted: int, now: datetime
) -> tuple[int, Level] | None:
    """Set on_hand to `counted` unless that is below reserved; returns the
    delta and the level, or None when refused."""
    current = await _upsert_level(
        conn, tenant_id, warehouse_id, sku, now, values={}, on_conflict={"on_hand": levels.c.on_hand}
    )
    delta = counted - int(current.on_hand)
    changed = await change_level(
        conn,
        tenant_id,
        warehouse_id,
        sku,
        on_hand_delta=delta,
        reserved_delta=0,
        now=now,
        counted=True,
    )
    return (delta, changed) if changed is not None else None


async def next_sequences(conn: AsyncConnection, tenant_id: str, count: int) -> int:
    """Reserve `count` ledger sequences for the movements the transaction
    appends; returns the first. Locks the tenant's sequence row until commit,
    which is why it comes last. On PostgreSQL the same statement announces
    the append to live streams, delivered on commit (`feed_store`)."""
    postgresql = conn.dialect.name == "postgresql"
    dialect_insert = pg_insert if postgresql else sqlite_insert
    returned = [sequences.c.last_sequence, *([feed_store.notify(tenant_id)] if postgresql else [])]
    statement: Any = (
        dialect_insert(sequences)
        .values(tenant_id=tenant_id, last_sequence=count)
        .on_conflict_do_update(
            index_elements=[sequences.c.tenant_id], set_={"last_sequence": sequences.c.last_sequence + count}
        )
        .returning(*returned)
    )
    last = int((await conn.execute(statement)).one()[0])
    return last - count + 1


async def last_sequence(conn: AsyncConnection, tenant_id: str) -> int:
    query = select(sequences.c.last_sequence).where(sequences.c.tenant_id == tenant_id)
    return int((await conn.execute(query)).scalar() or 0)


# --- movements ---------------------------------------------------------------


def _movement(row: Any) -> Movement:
    return Movement(
        id=row.id,
        sequence=row.sequence,
        type=MovementType(row.type),
        warehouse_id=row.warehouse_id,
        sku=row.sku,
        quantity_delta=row.quantity_delta,
        reserved_delta=row.reserved_delta,
        on_hand_after=row.on_hand_after,
        reserved_after=row.reserved_after,
        reason=AdjustmentReason(row.reason) if row.reason else None,
        note=row.note,
        reference=row.reference,
        reservation_id=row.reservation_id,
        counterpart_warehouse_id=row.counterpart_warehouse_id,
        user_id=row.user_id,
        caller=row.caller,
        request_id=row.request_id,
        trace_id=row.trace_id,
        effective_at=row.effective_at,
        created_at=row.created_at,
    )


async def insert_movements(conn: AsyncConnection, tenant_id: str, rows: Sequence[Movement]) -> None:
    await conn.execute(
        insert(movements),
        [
            {
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
            for m in rows
        ],
    )


async def movement(conn: AsyncConnection, tenant_id: str, movement_id: str) -> Movement | None:
    query = select(movements).where(movements.c.tenant_id == tenant_id, movements.c.id == movement_id)
    row = (await conn.execute(query)).first()
    return _movement(row) if row else None


async def list_movements(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    warehouse_id: str | None = None,
    sku: str = "",
    types: Sequence[MovementType] = (),
    reference: str = "",
    reservation_id: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    after_sequence: int = 0,
    before_sequence: int | None = None,
    newest_first: bool = False,
    limit: int = 50,
    keys: Sequence[tuple[str, str]] = (),
) -> list[Movement]:
    c = movements.c
    query = select(movements).where(c.tenant_id == tenant_id, c.sequence > after_sequence)
    if before_sequence is not None:
        query = query.where(c.sequence < before_sequence)
    if warehouse_id is not None:
        query = query.where(c.warehouse_id == warehouse_id)
    if sku:
        query = query.where(c.sku == sku)
    if keys:
        query = query.where(tuple_(c.warehouse_id, c.sku).in_(list(keys)))
    if types:
        query = query.where(c.type.in_([t.value for t in types]))
    if reference:
        query = query.where(c.reference == reference)
    if reservation_id:
        query = query.where(c.reservation_id == reservation_id)
    if start is not None:
        query = query.where(c.created_at >= start)
    if end is not None:
        query = query.where(c.created_at < end)
    order = c.sequence.desc() if newest_first else c.sequence
    return [_movement(r) for r in (await conn.execute(query.order_by(order).limit(limit))).all()]


async def ledger_sums(
    conn: AsyncConnection, tenant_id: str, warehouse_id: str | None
) -> dict[tuple[str, str], tuple[int, int]]:
    c = movements.c
    query = (
        select(c.warehouse_id, c.sku, func.sum(c.quantity_delta), func.sum(c.reserved_delta))
        .where(c.tenant_id == tenant_id)
        .group_by(c.warehouse_id, c.sku)
    )
    if warehouse_id is not None:
        query = query.where(c.warehouse_id == warehouse_id)
    return {(r[0], r[1]): (int(r[2] or 0), int(r[3] or 0)) for r in (await conn.execute(query)).all()}


async def demand(
    conn: AsyncConnection,
    tenant_id: str,
    warehouse_id: str,
    start: datetime,
    end: datetime,
    skus: Sequence[str],
) -> dict[str, tuple[int, int, int, datetime | None, datetime | None]]:
    """Per SKU: (shipped, returned, shipment count, first and last shipment time)."""
    c = movements.c
    shipped = func.sum(c.quantity_delta).filter(c.type == MovementType.SHIPMENT.value)
    returned = func.sum(c.quantity_delta).filter(c.type == MovementType.RETURN.value)
    count = func.count().filter(c.type == MovementType.SHIPMENT.value)
    first = func.min(c.effective_at).filter(c.type == MovementType.SHIPMENT.value)
    last = func.max(c.effective_at).filter(c.type == MovementType.SHIPMENT.value)
    query = (
        select(c.sku, shipped, returned, count, first, last)
        .where(
            c.tenant_id == tenant_id,
            c.warehouse_id == warehouse_id,
            c.type.in_([MovementType.SHIPMENT.value, MovementType.RETURN.value]),
            c.effective_at >= start,
            c.effective_at < end,
        )
        .group_by(c.sku)
    )
    if skus:
        query = query.where(c.sku.in_(list(skus)))
    out = {}
    for row in (await conn.execute(query)).all():
        first_at, last_at = (_aware(row[4]), _aware(row[5]))
        out[row[0]] = (-int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), first_at, last_at)
    return out


def _aware(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return UtcDateTime().process_result_value(value, None)  # type: ignore[arg-type]
    return UtcDateTime().process_result_value(datetime.fromisoformat(value), None)  # type: ignore[arg-type]


# --- reservations ------------------------------------------------------------


async def insert_reservation(conn: AsyncConnection, r: Reservation) -> None:
    await conn.execute(
        insert(reservations).values(
            tenant_id=r.tenant_id,
            id=r.id,
            reference=r.reference,
            state=r.state.value,
            expire_at=r.expire_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
            ended_at=r.ended_at,
            version=r.version,
        )
    )
    await conn.execute(
        insert(reservation_lines),
        [
            {
                "tenant_id": r.tenant_id,
                "reservation_id": r.id,
                "line_no": i,
                "warehouse_id": line.warehouse_id,
                "sku": line.sku,
                "quantity": line.quantity,
            }
            for i, line in enumerate(r.lines)
        ],
    )


async def _lines(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, list[Line]]:
    query = (
        select(reservation_lines)
        .where(reservation_lines.c.tenant_id == tenant_id, reservation_lines.c.reservation_id.in_(list(ids)))
        .order_by(reservation_lines.c.reservation_id, reservation_lines.c.line_no)
    )
    out: dict[str, list[Line]] = {i: [] for i in ids}
    for row in (await conn.execute(query)).all():
        out[row.reservation_id].append(Line(row.warehouse_id, row.sku, row.quantity))
    return out


def _reservation(row: Any, lines: list[Line]) -> Reservation:
    return Reservation(
        id=row.id,
        tenant_id=row.tenant_id,
        reference=row.reference,
        lines=tuple(lines),
        state=ReservationState(row.state),
        expire_at=row.expire_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
        version=row.version,
    )


async def reservation(
    conn: AsyncConnection, tenant_id: str, reservation_id: str, *, lock: bool = False
) -> Reservation | None:
    query = select(reservations).where(
        reservations.c.tenant_id == tenant_id, reservations.c.id == reservation_id
    )
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return _reservation(row, (await _lines(conn, tenant_id, [row.id]))[row.id])


async def list_reservations(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    state: ReservationState | None,
    now: datetime,
    reference: str,
    warehouse_id: str | None,
    sku: str,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Reservation]:
    r = reservations.c
    query = select(reservations).where(r.tenant_id == tenant_id)
    if state is ReservationState.ACTIVE:
        query = query.where(r.state == state.value, r.expire_at > now)
    elif state is ReservationState.EXPIRED:
        query = query.where(
            (r.state == state.value) | and_(r.state == ReservationState.ACTIVE.value, r.expire_at <= now)
        )
    elif state is not None:
        query = query.where(r.state == state.value)
    if reference:
        query = query.where(r.reference == reference)
    if warehouse_id is not None or sku:
        lines = select(reservation_lines.c.reservation_id).where(reservation_lines.c.tenant_id == tenant_id)
        if warehouse_id is not None:
            lines = lines.where(reservation_lines.c.warehouse_id == warehouse_id)
        if sku:
            lines = lines.where(reservation_lines.c.sku == sku)
        query = query.where(r.id.in_(lines))
    if before is not None:
        query = query.where(tuple_(r.created_at, r.id) < tuple_(*before))
    rows = (await conn.execute(query.order_by(r.created_at.desc(), r.id.desc()).limit(limit))).all()
    lines_of = await _lines(conn, tenant_id, [row.id for row in rows]) if rows else {}
    return [_reservation(row, lines_of[row.id]) for row in rows]


async def save_reservation(conn: AsyncConnection, r: Reservation, *, expected_version: int) -> bool:
    result = await conn.execute(
        update(reservations)
        .where(
            reservations.c.tenant_id == r.tenant_id,
            reservations.c.id == r.id,
            reservations.c.version == expected_version,
        )
        .values(
            state=r.state.value,
            expire_at=r.expire_at,
            updated_at=r.updated_at,
            ended_at=r.ended_at,
            version=r.version,
        )
    )
    return result.rowcount == 1


async def lapsed_reservations(conn: AsyncConnection, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(tenant, id) of active reservations past their expiry, oldest first."""
    r = reservations.c
    query = (
        select(r.tenant_id, r.id)
        .where(r.state == ReservationState.ACTIVE.value, r.expire_at <= now)
        .order_by(r.expire_at)
        .limit(limit)
    )
    return [(row.tenant_id, row.id) for row in (await conn.execute(query)).all()]


async def lapsed_on_levels(
    conn: AsyncConnection, tenant_id: str, keys: Sequence[tuple[str, str]], now: datetime
) -> list[str]:
    """Ids of lapsed, not yet swept reservations holding stock on these levels."""
    r, lines = reservations.c, reservation_lines.c
    query = (
        select(r.id)
        .distinct()
        .join_from(
            reservations,
            reservation_lines,
            and_(lines.tenant_id == r.tenant_id, lines.reservation_id == r.id),
        )
        .where(
            r.tenant_id == tenant_id,
            r.state == ReservationState.ACTIVE.value,
            r.expire_at <= now,
            tuple_(lines.warehouse_id, lines.sku).in_(list(keys)),
        )
    )
    return sorted(row.id for row in (await conn.execute(query)).all())


async def lapsed_holds(
    conn: AsyncConnection, tenant_id: str, keys: Sequence[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], int]:
    """Per level, what lapsed but not yet swept reservations still hold."""
    if not keys:
        return {}
    r, lines = reservations.c, reservation_lines.c
    query = (
        select(lines.warehouse_id, lines.sku, func.sum(lines.quantity))
        .join_from(
            reservation_lines,
            reservations,
            and_(lines.tenant_id == r.tenant_id, lines.reservation_id == r.id),
        )
        .where(
            r.tenant_id == tenant_id,
            r.state == ReservationState.ACTIVE.value,
            r.expire_at <= now,
            tuple_(lines.warehouse_id, lines.sku).in_(list(set(keys))),
        )
        .group_by(lines.warehouse_id, lines.sku)
    )
    return {(row[0], row[1]): int(row[2]) for row in (await conn.execute(query)).all()}


async def active_reserved_sums(
    conn: AsyncConnection, tenant_id: str, warehouse_id: str | None
) -> dict[tuple[str, str], int]:
    """Sum of the lines of reservations still holding stock (ACTIVE in the store)."""
    r, lines = reservations.c, reservation_lines.c
    query = (
        select(lines.warehouse_id, lines.sku, func.sum(lines.quantity))
        .join_from(
            reservation_lines,
            reservations,
            and_(lines.tenant_id == r.tenant_id, lines.reservation_id == r.id),
        )
        .where(r.tenant_id == tenant_id, r.state == ReservationState.ACTIVE.value)
        .group_by(lines.warehouse_id, lines.sku)
    )
    if warehouse_id is not None:
        query = query.where(lines.warehouse_id == warehouse_id)
    return {(row[0], row[1]): int(row[2]) for row in (await conn.execute(query)).all()}


async def all_levels(
    conn: AsyncConnection, tenant_id: str, warehouse_id: str | None
) -> list[tuple[str, str, int, int]]:
    query = select(levels.c.warehouse_id, levels.c.sku, levels.c.on_hand, levels.c.reserved).where(
        levels.c.tenant_id == tenant_id
    )
    if warehouse_id is not None:
        query = query.where(levels.c.warehouse_id == warehouse_id)
    return [
        (r[0], r[1], int(r[2]), int(r[3]))
        for r in (await conn.execute(query.order_by(levels.c.warehouse_id, levels.c.sku))).all()
    ]


# --- reservations in batches (PostgreSQL) ------------------------------------
#
# The hot path of the service. Concurrent reservations of a tenant are written
# together (kit.batching), on the psycopg connection itself
# (`Database.driver_transaction`): these statements run for every batch, and
# SQLAlchemy's cost per statement showed in the profile.
#
# When stock is plentiful a batch is granted whole in one autocommitted
# statement (`reserve_whole`): no row lock outlives it. When it cannot be
# (a short line, a repeated request id), the batch is decided one
# reservation at a time in a transaction of two statements: the first claims
# the request ids and locks the levels (`claim_and_lock`), the use case
# decides, the second writes (`write_reservations`). Either way the lock
# order is every writer's: claims (sorted), levels in (warehouse_id, sku)
# order, the tenant's sequence row last; a hot level is locked and committed
# once per batch instead of once per reservation.
#
# Rows travel as one JSON parameter per table: encoding a batch is then one
# msgspec call instead of a driver-side adaptation of every value.


def _compose(*fragments: str) -> str:
    """A statement made of the constant SQL fragments below (never of input),
    without its comments and runs of blanks: psycopg caches the parsing of
    statements only up to 4 kB, and these run for every batch."""
    text = "".join(fragments)
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return " ".join(" ".join(lines).split())


@dataclass(frozen=True)
class NewReservation:
    """A reservation to write, with the ids of its RESERVE movements (one per
    line) and who asked for it."""

    reservation: Reservation
    movement_ids: Sequence[str]
    who: Provenance


_CLAIM = """
claim AS (
    INSERT INTO idempotency_records
        (scope, request_id, operation, fingerprint, result, created_at, expires_at)
    SELECT c.scope, c.request_id, c.operation, c.fingerprint, convert_to(c.result::text, 'UTF8'),
           c.created_at, c.expires_at
    FROM json_to_recordset(%(claims)s::json) AS c(
        scope text, request_id text, operation text, fingerprint text, result json,
        created_at timestamptz, expires_at timestamptz
    )
    ON CONFLICT (scope, request_id) DO NOTHING
    RETURNING request_id
)"""

_LOCK = """
locked AS (
    -- Reads the whole claim first (count, not EXISTS): every claim is taken
    -- before the first level lock.
    SELECT {columns}
    FROM stock_levels AS l
    JOIN json_to_recordset(%(levels)s::json) AS w(warehouse_id text, sku text)
        ON l.warehouse_id = w.warehouse_id AND l.sku = w.sku
    JOIN warehouses AS h ON h.tenant_id = l.tenant_id AND h.id = l.warehouse_id AND h.status = 'active'
    WHERE l.tenant_id = %(tenant_id)s AND (SELECT count(*) FROM claim) > 0
    ORDER BY l.warehouse_id, l.sku
    FOR UPDATE OF l
)"""

# The level updates (`changed`, returning each level as it was before the
# batch), then the rows that follow from them. {go} is the condition for
# writing at all. The sequence reads `changed`, so it is locked after the
# levels; a movement's reserved_after is its level's reserved before the
# batch plus the batch's quantities on that level up to and including it.
_WRITE = """
header AS (
    INSERT INTO reservations
        (tenant_id, id, reference, state, expire_at, created_at, updated_at, ended_at, version)
    SELECT %(tenant_id)s, r.id, r.reference, 'active', r.expire_at, r.created_at, r.created_at, NULL, 1
    FROM json_to_recordset(%(reservations)s::json)
        AS r(id text, reference text, expire_at timestamptz, created_at timestamptz)
    WHERE {go}
),
lines AS (
    INSERT INTO reservation_lines (tenant_id, reservation_id, line_no, warehouse_id, sku, quantity)
    SELECT %(tenant_id)s, n.reservation_id, n.line_no, n.warehouse_id, n.sku, n.quantity
    FROM json_to_recordset(%(lines)s::json)
        AS n(reservation_id text, line_no int, warehouse_id text, sku text, quantity bigint)
    WHERE {go}
),
sequence AS (
    INSERT INTO ledger_sequences (tenant_id, last_sequence)
    SELECT %(tenant_id)s, %(count)s FROM (SELECT count(*) AS n FROM changed) AS c WHERE {go}
    ON CONFLICT (tenant_id) DO UPDATE SET last_sequence = ledger_sequences.last_sequence + %(count)s
    RETURNING last_sequence
),
written AS (
    INSERT INTO movements (
        tenant_id, id, sequence, type, warehouse_id, sku, quantity_delta, reserved_delta, on_hand_after,
        reserved_after, reason, note, reference, reservation_id, counterpart_warehouse_id, user_id, caller,
        request_id, trace_id, effective_at, created_at
    )
    SELECT %(tenant_id)s, m.id, s.last_sequence - %(count)s + 1 + m.position, 'reserve', m.warehouse_id,
           m.sku, 0, m.quantity, g.on_hand, g.reserved_before + m.reserved_offset, NULL, '', m.reference,
           m.reservation_id, '', m.user_id, m.caller, m.request_id, m.trace_id, %(now)s, %(now)s
    FROM json_to_recordset(%(movements)s::json) AS m(
        id text, position bigint, warehouse_id text, sku text, quantity bigint,
        reserved_offset bigint, reference text, reservation_id text, user_id text,
        caller text, request_id text, trace_id text
    )
    JOIN changed AS g ON g.warehouse_id = m.warehouse_id AND g.sku = m.sku
    CROSS JOIN sequence AS s
)"""

_CHANGED_RETURNING = """
    RETURNING l.warehouse_id, l.sku, l.on_hand, l.reserved - d.reserved AS reserved_before,
              l.reorder_point, l.reorder_quantity, l.last_count_at, l.updated_at,
              l.version - d.versions AS version_before"""

_LEVEL_DELTAS = """json_to_recordset(%(deltas)s::json)
        AS d(warehouse_id text, sku text, reserved bigint, versions int)"""

# The whole batch or nothing: if a claim was already taken or a level is
# short, the last SELECT divides by zero, which undoes the whole statement.
# Its one-row FROM announces the append to live streams (`feed_store`): the
# notification commits with the statement and is dropped when it undoes itself.
_RESERVE_WHOLE_SQL = _compose(
    "WITH",
    _CLAIM,
    ",",
    _LOCK.format(columns="l.warehouse_id, l.sku"),
    """,
changed AS (
    UPDATE stock_levels AS l
    SET reserved = l.reserved + d.reserved, version = l.version + d.versions, updated_at = %(now)s
    FROM """,
    _LEVEL_DELTAS,
    """, locked AS k
    WHERE l.tenant_id = %(tenant_id)s AND l.warehouse_id = d.warehouse_id AND l.sku = d.sku
      AND k.warehouse_id = d.warehouse_id AND k.sku = d.sku
      AND l.on_hand - l.reserved >= d.reserved""",
    _CHANGED_RETURNING,
    """
),""",
    _WRITE.format(
        go="(SELECT count(*) FROM claim) = %(claim_count)s"
        " AND (SELECT count(*) FROM changed) = %(level_count)s"
    ),
    """
SELECT 1 / (SELECT count(*) FROM sequence)::int AS whole, s.last_sequence - %(count)s + 1 AS first_sequence,
       g.warehouse_id, g.sku, g.on_hand, g.reserved_before, g.reorder_point, g.reorder_quantity,
       g.last_count_at, g.updated_at, g.version_before
FROM (SELECT """,
    feed_store.NOTIFY_SQL,
    """) AS one LEFT JOIN sequence AS s ON true LEFT JOIN changed AS g ON true
""",
)

_CLAIM_AND_LOCK_SQL = _compose(
    "WITH",
    _CLAIM,
    ",",
    _LOCK.format(
        columns="l.warehouse_id, l.sku, l.on_hand, l.reserved, l.reorder_point, l.reorder_quantity,"
        " l.last_count_at, l.updated_at, l.version"
    ),
    """
SELECT request_id, NULL AS warehouse_id, NULL AS sku, NULL::bigint AS on_hand, NULL::bigint AS reserved,
       NULL::bigint AS reorder_point, NULL::bigint AS reorder_quantity, NULL::timestamptz AS last_count_at,
       NULL::timestamptz AS updated_at, NULL::int AS version
FROM claim
UNION ALL
SELECT NULL, * FROM locked
""",
)

# The levels were locked by `claim_and_lock`, so every update goes through.
# The last SELECT announces the append to live streams (`feed_store`), on the
# commit of the transaction.
_WRITE_RESERVATIONS_SQL = _compose(
    """WITH changed AS (
    UPDATE stock_levels AS l
    SET reserved = l.reserved + d.reserved, version = l.version + d.versions, updated_at = %(now)s
    FROM """,
    _LEVEL_DELTAS,
    """
    WHERE l.tenant_id = %(tenant_id)s AND l.warehouse_id = d.warehouse_id AND l.sku = d.sku""",
    _CHANGED_RETURNING,
    """
),""",
    _WRITE.format(go="true"),
    """
SELECT s.last_sequence - %(count)s + 1 AS first_sequence, (SELECT count(*) FROM changed) AS changed, """,
    feed_store.NOTIFY_SQL,
    """
FROM sequence AS s
""",
)

# Refused in a batch: the claim goes, so a retry is decided afresh. A join,
# not "= ANY", so that each id is one primary-key probe whatever the plan.
_UNCLAIM_SQL = """
DELETE FROM idempotency_records AS i
USING json_array_elements_text(%(refused)s::json) AS u(request_id)
WHERE i.scope = %(tenant_id)s AND i.request_id = u.request_id
"""


async def reserve_whole(
    conn: psycopg.AsyncConnection[Any],
    tenant_id: str,
    claims: Sequence[dict[str, Any]],
    batch: Sequence[NewReservation],
    now: datetime,
) -> tuple[int, dict[tuple[str, str], Level]] | None:
    """Claim and write every reservation of `batch` in one statement, on a
    connection in autocommit; None, with nothing written, unless every claim
    was new and every level (in an active warehouse) had enough for all of
    them. Returns the first movement sequence (numbered in the order of
    `batch` and its lines) and the levels as they were before the batch."""
    params, level_count = _rows(tenant_id, batch, now)
    params |= {"claims": _claims(claims), "claim_count": len(claims), "level_count": level_count}
    try:
        cursor = await conn.execute(_RESERVE_WHOLE_SQL, params)
    except psycopg.errors.DivisionByZero:
        return None
    rows = await cursor.fetchall()
    before = [_batch_level(row[2:]) for row in rows]
    return int(rows[0][1]), {(level.warehouse_id, level.sku): level for level in before}


async def claim_and_lock(
    conn: psycopg.AsyncConnection[Any],
    tenant_id: str,
    claims: Sequence[dict[str, Any]],
    keys: Sequence[tuple[str, str]],
) -> tuple[set[str], dict[tuple[str, str], Level]]:
    """Claim these request ids (rows as `idempotency.claim_row` makes them)
    and lock the levels at `keys` that can be reserved (their warehouse is
    active). Returns the request ids claimed now (the others took effect
    before) and the locked levels."""
    params = {
        "tenant_id": tenant_id,
        "claims": _claims(claims),
        "levels": _json([{"warehouse_id": w, "sku": sku} for w, sku in sorted(set(keys))]),
    }
    claimed: set[str] = set()
    locked: dict[tuple[str, str], Level] = {}
    cursor = await conn.execute(_CLAIM_AND_LOCK_SQL, params)
    for request_id, *values in await cursor.fetchall():
        if request_id is not None:
            claimed.add(request_id)
        else:
            level = _batch_level(values)
            locked[(level.warehouse_id, level.sku)] = level
    return claimed, locked


async def write_reservations(
    conn: psycopg.AsyncConnection[Any],
    tenant_id: str,
    granted: Sequence[NewReservation],
    refused: Sequence[str],
    now: datetime,
) -> int:
    """After `claim_and_lock`, in its transaction: write the granted
    reservations, their lines and RESERVE movements and the level changes,
    and drop the claims of the `refused` request ids. Returns the first
    movement sequence (numbered in the order of `granted` and its lines)."""
    params, expected = _rows(tenant_id, granted, now)
    if refused:  # rare on the hot path: a statement of its own only then
        await conn.execute(_UNCLAIM_SQL, {"tenant_id": tenant_id, "refused": _json(list(refused))})
    cursor = await conn.execute(_WRITE_RESERVATIONS_SQL, params)
    row = await cursor.fetchone()
    assert row is not None
    first_sequence, changed, _announced = row
    if changed != expected:  # pragma: no cover - the levels were locked by claim_and_lock
        raise RuntimeError(f"{changed} of {expected} levels changed")
    return int(first_sequence)


def _claims(claims: Sequence[dict[str, Any]]) -> str:
    # Sorted: two batches claiming the same ids take them in the same order.
    ordered = sorted(claims, key=lambda c: (c["scope"], c["request_id"]))
    return _json([{**c, "result": msgspec.Raw(c["result"])} for c in ordered])


def _batch_level(values: Sequence[Any]) -> Level:
    """A level from the columns the batch statements return for it, in order:
    warehouse_id, sku, on_hand, reserved, reorder_point, reorder_quantity,
    last_count_at, updated_at, version."""
    w, sku, on_hand, reserved, point, quantity, counted, updated, version = values
    return Level(w, sku, on_hand, reserved, point, quantity, updated, version, 0, counted)


def _rows(tenant_id: str, batch: Sequence[NewReservation], now: datetime) -> tuple[dict[str, Any], int]:
    """The parameters of the statements that write a batch, and how many
    levels it changes."""
    deltas: dict[tuple[str, str], list[int]] = {}  # key -> [reserved, reservations]
    reservations_: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for new in batch:
        r, who = new.reservation, new.who
        reservations_.append(
            {"id": r.id, "reference": r.reference, "expire_at": r.expire_at, "created_at": r.created_at}
        )
        for line_no, (line, movement_id) in enumerate(zip(r.lines, new.movement_ids, strict=True)):
            key = (line.warehouse_id, line.sku)
            delta = deltas.setdefault(key, [0, 0])
            delta[0] += line.quantity
            delta[1] += 1
            lines.append(
                {
                    "reservation_id": r.id,
                    "line_no": line_no,
                    "warehouse_id": line.warehouse_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                }
            )
            moved.append(
                {
                    "id": movement_id,
                    "position": len(moved),
                    "warehouse_id": line.warehouse_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "reserved_offset": delta[0],
                    "reference": r.reference,
                    "reservation_id": r.id,
                    "user_id": who.user_id,
                    "caller": who.caller,
                    "request_id": who.request_id,
                    "trace_id": who.trace_id,
                }
            )
    keys = sorted(deltas)
    return {
        "tenant_id": tenant_id,
        "now": now,
        "count": len(moved),
        "levels": _json([{"warehouse_id": w, "sku": sku} for w, sku in keys]),
        "deltas": _json(
            [
                {"warehouse_id": w, "sku": sku, "reserved": deltas[w, sku][0], "versions": deltas[w, sku][1]}
                for w, sku in keys
            ]
        ),
        "reservations": _json(reservations_),
        "lines": _json(lines),
        "movements": _json(moved),
    }, len(keys)


def _json(rows: object) -> str:
    return msgspec.json.encode(rows).decode()


async def movements_by_id(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> list[Movement]:
    """The movements with these ids, in the order of `ids`."""
    query = select(movements).where(movements.c.tenant_id == tenant_id, movements.c.id.in_(list(ids)))
    found = {row.id: _movement(row) for row in (await conn.execute(query)).all()}
    return [found[i] for i in ids]
