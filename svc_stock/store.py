"""svc_stock's tables and queries (SQLAlchemy Core; SQLite and PostgreSQL).

Level changes are single conditional statements: the invariant is the WHERE
clause, so the row lock a change takes is held for as few round trips as
possible, and a refused change touches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
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
    and_,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, idempotency
from kit.db import UtcDateTime
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
    PrimaryKeyConstraint("tenant_id", "reservation_id", "line_no"),
    ForeignKeyConstraint(["tenant_id", "reservation_id"], ["reservations.tenant_id", "reservations.id"]),
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
    """Reserve `count` ledger sequences; returns the first. Locks the tenant's
    sequence row until commit, which is why it comes last."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement: Any = (
        dialect_insert(sequences)
        .values(tenant_id=tenant_id, last_sequence=count)
        .on_conflict_do_update(
            index_elements=[sequences.c.tenant_id], set_={"last_sequence": sequences.c.last_sequence + count}
        )
        .returning(sequences.c.last_sequence)
    )
    last = int((await conn.execute(statement)).scalar_one())
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


# --- the reservation in one statement (PostgreSQL) ----------------------------
#
# The hot path of the service. The idempotency claim (with its result),
# the reservation and its lines, the level updates, the ledger sequence and
# the movements are one statement run in autocommit: every row lock it takes
# is released by the commit that ends the statement, never held while the
# service waits for its event loop. Each data-modifying CTE reads the one
# before it, which fixes the order PostgreSQL runs them in: claim, level locks
# in (warehouse_id, sku) order, level updates, then (only if every line was
# granted) the tenant's sequence row, then the movements. If the claim went
# through but a line was short, the last SELECT divides by zero, so the whole
# statement fails and leaves nothing; the caller then takes the general path,
# which names the short lines (or replays the first result of the request).

_RESERVE_SQL = """
WITH claim AS (
    INSERT INTO idempotency_records
        (scope, request_id, operation, fingerprint, result, created_at, expires_at)
    VALUES
        (%(scope)s, %(request_id)s, %(operation)s, %(fingerprint)s, %(result)s,
         %(claimed_at)s, %(claim_expires)s)
    ON CONFLICT (scope, request_id) DO NOTHING
    RETURNING 1 AS claimed
),
wanted AS (
    SELECT * FROM unnest(
        %(line_no)s::int[], %(warehouse_id)s::varchar[], %(sku)s::varchar[], %(quantity)s::bigint[]
    ) AS w(line_no, warehouse_id, sku, quantity)
),
locked AS (
    SELECT l.warehouse_id, l.sku
    FROM stock_levels AS l JOIN wanted AS w ON l.warehouse_id = w.warehouse_id AND l.sku = w.sku, claim
    WHERE l.tenant_id = %(tenant_id)s
    ORDER BY l.warehouse_id, l.sku
    FOR UPDATE OF l
),
header AS (
    INSERT INTO reservations
        (tenant_id, id, reference, state, expire_at, created_at, updated_at, ended_at, version)
    SELECT
        %(tenant_id)s, %(reservation_id)s, %(reference)s, 'active', %(expire_at)s, %(now)s, %(now)s, NULL, 1
    FROM claim
    RETURNING id
),
lines AS (
    INSERT INTO reservation_lines (tenant_id, reservation_id, line_no, warehouse_id, sku, quantity)
    SELECT %(tenant_id)s, header.id, w.line_no, w.warehouse_id, w.sku, w.quantity FROM header, wanted w
    RETURNING line_no
),
granted AS (
    UPDATE stock_levels AS l
    SET reserved = l.reserved + w.quantity, updated_at = %(now)s, version = l.version + 1
    FROM wanted AS w, locked AS k
    WHERE l.tenant_id = %(tenant_id)s AND l.warehouse_id = w.warehouse_id AND l.sku = w.sku
      AND k.warehouse_id = w.warehouse_id AND k.sku = w.sku
      AND l.on_hand - l.reserved >= w.quantity
      AND EXISTS (
          SELECT 1 FROM warehouses AS h
          WHERE h.tenant_id = l.tenant_id AND h.id = l.warehouse_id AND h.status = 'active'
      )
    RETURNING w.line_no, l.warehouse_id, l.sku, l.on_hand, l.reserved, l.reorder_point, l.reorder_quantity,
              l.last_count_at, l.updated_at, l.version
),
sequence AS (
    INSERT INTO ledger_sequences (tenant_id, last_sequence)
    SELECT %(tenant_id)s, %(lines)s FROM (SELECT count(*) AS n FROM granted) AS g WHERE g.n = %(lines)s
    ON CONFLICT (tenant_id) DO UPDATE SET last_sequence = ledger_sequences.last_sequence + %(lines)s
    RETURNING last_sequence
),
written AS (
    INSERT INTO movements (
        tenant_id, id, sequence, type, warehouse_id, sku, quantity_delta, reserved_delta, on_hand_after,
        reserved_after, reason, note, reference, reservation_id, counterpart_warehouse_id, user_id, caller,
        request_id, trace_id, effective_at, created_at
    )
    SELECT %(tenant_id)s, (%(movement_id)s::varchar[])[g.line_no + 1],
           s.last_sequence - %(lines)s + 1 + g.line_no, 'reserve', g.warehouse_id, g.sku, 0, w.quantity,
           g.on_hand, g.reserved, NULL, '', %(reference)s, %(reservation_id)s, '', %(user_id)s, %(caller)s,
           %(movement_request_id)s, %(trace_id)s, %(now)s, %(now)s
    FROM granted AS g JOIN wanted AS w USING (line_no), sequence AS s
    RETURNING sequence
),
verdict AS (
    -- Claimed and all granted: 1. Not claimed (a repeat): 0, nothing was done.
    -- Claimed but short: a division by zero that undoes the whole statement.
    -- The divisor is a query, not a constant, so the planner cannot fold it.
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM claim) THEN 0
        ELSE 1 / (SELECT CASE WHEN count(*) = %(lines)s THEN 1 ELSE 0 END FROM written)
    END AS outcome
)
SELECT v.outcome, g.*, s.last_sequence - %(lines)s + 1 + g.line_no AS sequence
FROM verdict AS v LEFT JOIN granted AS g ON true LEFT JOIN sequence AS s ON true
ORDER BY g.line_no
"""

_DIVISION_BY_ZERO = "22012"


async def reserve_at_once(
    conn: AsyncConnection,
    claim: dict[str, Any],
    reservation: Reservation,
    movement_ids: Sequence[str],
    who: Provenance,
    now: datetime,
) -> list[tuple[Movement, Level]] | None:
    """Claim and reserve every line in one autocommitted statement; None when
    nothing was done (a repeat of the request_id, or a short line)."""
    lines = reservation.lines
    params = {
        "scope": claim["scope"],
        "request_id": claim["request_id"],
        "operation": claim["operation"],
        "fingerprint": claim["fingerprint"],
        "result": claim["result"],
        "claimed_at": claim["created_at"],
        "claim_expires": claim["expires_at"],
        "tenant_id": reservation.tenant_id,
        "reservation_id": reservation.id,
        "reference": reservation.reference,
        "expire_at": reservation.expire_at,
        "now": now,
        "lines": len(lines),
        "line_no": list(range(len(lines))),
        "warehouse_id": [line.warehouse_id for line in lines],
        "sku": [line.sku for line in lines],
        "quantity": [line.quantity for line in lines],
        "movement_id": list(movement_ids),
        "user_id": who.user_id,
        "caller": who.caller,
        "movement_request_id": who.request_id,
        "trace_id": who.trace_id,
    }
    try:
        rows = (await conn.exec_driver_sql(_RESERVE_SQL, params)).all()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == _DIVISION_BY_ZERO:
            return None
        raise
    if rows[0].outcome != 1:
        return None
    out = []
    for row in rows:
        level = Level(
            warehouse_id=row.warehouse_id,
            sku=row.sku,
            on_hand=int(row.on_hand),
            reserved=int(row.reserved),
            reorder_point=int(row.reorder_point),
            reorder_quantity=int(row.reorder_quantity),
            updated_at=row.updated_at,
            version=row.version,
            last_movement_sequence=int(row.sequence),
            last_count_at=row.last_count_at,
        )
        movement = Movement(
            id=movement_ids[row.line_no],
            sequence=int(row.sequence),
            type=MovementType.RESERVE,
            warehouse_id=row.warehouse_id,
            sku=row.sku,
            quantity_delta=0,
            reserved_delta=lines[row.line_no].quantity,
            on_hand_after=level.on_hand,
            reserved_after=level.reserved,
            reason=None,
            note="",
            reference=reservation.reference,
            reservation_id=reservation.id,
            counterpart_warehouse_id="",
            user_id=who.user_id,
            caller=who.caller,
            request_id=who.request_id,
            trace_id=who.trace_id,
            effective_at=now,
            created_at=now,
        )
        out.append((movement, level))
    return out


async def movements_by_id(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> list[Movement]:
    """The movements with these ids, in the order of `ids`."""
    query = select(movements).where(movements.c.tenant_id == tenant_id, movements.c.id.in_(list(ids)))
    found = {row.id: _movement(row) for row in (await conn.execute(query)).all()}
    return [found[i] for i in ids]
