"""Stock levels on SQL. A change is one conditional statement: the row lock
it takes is held for as few round trips as possible, and a refused change
touches nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_stock import ports
from svc_stock.domain import Level
from svc_stock.ports import Key
from svc_stock.store.tables import levels, movements

# A low level, as domain.Level.low_stock decides it, for queries that filter or count.
LOW = (levels.c.reorder_quantity > 0) & (levels.c.on_hand - levels.c.reserved <= levels.c.reorder_point)


def level_query(tenant_id: str) -> Any:
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


def level_of(row: Any, last_sequence: int | None = None) -> Level:
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


def key_in(keys: Sequence[Key]) -> Any:
    return tuple_(levels.c.warehouse_id, levels.c.sku).in_(sorted(set(keys)))


def _after(after: Key, warehouse_id: str | None) -> ColumnElement[bool]:
    """Levels past a page's last (warehouse, SKU), in a shape that positions
    the primary key's index scan: with the warehouse fixed, on the SKU alone
    (a row comparison that starts at the column with an equality is only
    filtered, read from the warehouse's first row)."""
    if warehouse_id is None:
        return tuple_(levels.c.warehouse_id, levels.c.sku) > tuple_(*after)
    if after[0] == warehouse_id:
        return levels.c.sku > after[1]
    return true() if after[0] < warehouse_id else false()


class SqlLevels(ports.Levels):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def low_counts(self) -> dict[tuple[str, str], int]:
        query = (
            select(levels.c.tenant_id, levels.c.warehouse_id, func.count())
            .where(LOW)
            .group_by(levels.c.tenant_id, levels.c.warehouse_id)
        )
        return {(row[0], row[1]): int(row[2]) for row in (await self.conn.execute(query)).all()}

    async def by_key(self, tenant_id: str, keys: Sequence[Key]) -> dict[Key, Level]:
        if not keys:
            return {}
        query = level_query(tenant_id).where(key_in(keys))
        return {(row.warehouse_id, row.sku): level_of(row) for row in (await self.conn.execute(query)).all()}

    async def find(
        self,
        tenant_id: str,
        *,
        warehouse_id: str | None,
        skus: Sequence[str],
        after: Key | None,
        limit: int,
        low_only: bool = False,
    ) -> list[Level]:
        query = level_query(tenant_id)
        if warehouse_id is not None:
            query = query.where(levels.c.warehouse_id == warehouse_id)
        if skus:
            query = query.where(levels.c.sku.in_(list(skus)))
        if after is not None:
            query = query.where(_after(after, warehouse_id))
        if low_only:
            query = query.where(LOW)
        rows = (
            await self.conn.execute(query.order_by(levels.c.warehouse_id, levels.c.sku).limit(limit))
        ).all()
        return [level_of(r) for r in rows]

    async def set_reorder_policy(
        self, tenant_id: str, key: Key, point: int, quantity: int, now: datetime
    ) -> None:
        policy = {"reorder_point": point, "reorder_quantity": quantity}
        await self._upsert(tenant_id, key, now, values=policy, on_conflict=policy)

    async def add_stock(self, tenant_id: str, key: Key, quantity: int, now: datetime) -> Level:
        row = await self._upsert(
            tenant_id,
            key,
            now,
            values={"on_hand": quantity},
            on_conflict={"on_hand": levels.c.on_hand + quantity},
        )
        return level_of(row, 0)

    async def change(
        self, tenant_id: str, key: Key, *, on_hand_delta: int, reserved_delta: int, now: datetime
    ) -> Level | None:
        return await self._change(tenant_id, key, on_hand_delta, reserved_delta, now)

    async def _change(
        self,
        tenant_id: str,
        key: Key,
        on_hand_delta: int,
        reserved_delta: int,
        now: datetime,
        *,
        counted: bool = False,
    ) -> Level | None:
        values: dict[str, Any] = {
            "on_hand": levels.c.on_hand + on_hand_delta,
            "reserved": levels.c.reserved + reserved_delta,
            "updated_at": now,
            "version": levels.c.version + 1,
        }
        if counted:
            values["last_count_at"] = now
        result = await self.conn.execute(
            update(levels)
            .where(
                levels.c.tenant_id == tenant_id,
                levels.c.warehouse_id == key[0],
                levels.c.sku == key[1],
                levels.c.on_hand + on_hand_delta >= levels.c.reserved + reserved_delta,
            )
            .values(**values)
            .returning(*levels.c)
        )
        row = result.first()
        return level_of(row, 0) if row else None

    async def count(self, tenant_id: str, key: Key, counted: int, now: datetime) -> tuple[int, Level] | None:
        current = await self._upsert(
            tenant_id, key, now, values={}, on_conflict={"on_hand": levels.c.on_hand}
        )
        delta = counted - int(current.on_hand)
        changed = await self._change(tenant_id, key, delta, 0, now, counted=True)
        return (delta, changed) if changed is not None else None

    async def quantities(
        self, tenant_id: str, warehouse_id: str, *, after: str, limit: int
    ) -> list[tuple[str, int, int]]:
        query = (
            select(levels.c.sku, levels.c.on_hand, levels.c.reserved)
            .where(
                levels.c.tenant_id == tenant_id, levels.c.warehouse_id == warehouse_id, levels.c.sku > after
            )
            .order_by(levels.c.sku)
            .limit(limit)
        )
        return [(r[0], int(r[1]), int(r[2])) for r in (await self.conn.execute(query)).all()]

    async def _upsert(
        self, tenant_id: str, key: Key, now: datetime, *, values: dict[str, Any], on_conflict: dict[str, Any]
    ) -> Any:
        dialect_insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        row = {
            "tenant_id": tenant_id,
            "warehouse_id": key[0],
            "sku": key[1],
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
        return (await self.conn.execute(statement)).one()
