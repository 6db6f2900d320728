"""The ledger on SQL: movements, the per-tenant sequence, and the sums read
by reconciliation and demand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import UtcDateTime
from svc_stock import ports
from svc_stock.domain import AdjustmentReason, Movement, MovementType
from svc_stock.ports import DemandSums, Key, MovementQuery, SkuRange
from svc_stock.store import feed
from svc_stock.store.tables import movement_row, movements, sequences


def movement_of(row: Any) -> Movement:
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


class SqlLedger(ports.Ledger):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def next_sequences(self, tenant_id: str, count: int) -> int:
        # On PostgreSQL the same statement announces the append to live
        # streams, delivered on commit (`feed`).
        postgresql = self.conn.dialect.name == "postgresql"
        dialect_insert = pg_insert if postgresql else sqlite_insert
        returned = [sequences.c.last_sequence, *([feed.notify(tenant_id)] if postgresql else [])]
        statement: Any = (
            dialect_insert(sequences)
            .values(tenant_id=tenant_id, last_sequence=count)
            .on_conflict_do_update(
                index_elements=[sequences.c.tenant_id],
                set_={"last_sequence": sequences.c.last_sequence + count},
            )
            .returning(*returned)
        )
        last = int((await self.conn.execute(statement)).one()[0])
        return last - count + 1

    async def last_sequence(self, tenant_id: str) -> int:
        query = select(sequences.c.last_sequence).where(sequences.c.tenant_id == tenant_id)
        return int((await self.conn.execute(query)).scalar() or 0)

    async def append(self, tenant_id: str, written: Sequence[Movement]) -> None:
        if written:
            await self.conn.execute(insert(movements), [movement_row(tenant_id, m) for m in written])

    async def get(self, tenant_id: str, movement_id: str) -> Movement | None:
        query = select(movements).where(movements.c.tenant_id == tenant_id, movements.c.id == movement_id)
        row = (await self.conn.execute(query)).first()
        return movement_of(row) if row else None

    async def by_id(self, tenant_id: str, ids: Sequence[str]) -> list[Movement]:
        query = select(movements).where(movements.c.tenant_id == tenant_id, movements.c.id.in_(list(ids)))
        found = {row.id: movement_of(row) for row in (await self.conn.execute(query)).all()}
        return [found[i] for i in ids]

    async def find(self, tenant_id: str, q: MovementQuery) -> list[Movement]:
        c = movements.c
        query = select(movements).where(c.tenant_id == tenant_id, c.sequence > q.after_sequence)
        if q.before_sequence is not None:
            query = query.where(c.sequence < q.before_sequence)
        if q.warehouse_id is not None:
            query = query.where(c.warehouse_id == q.warehouse_id)
        if q.sku:
            query = query.where(c.sku == q.sku)
        if q.types:
            query = query.where(c.type.in_([t.value for t in q.types]))
        if q.reference:
            query = query.where(c.reference == q.reference)
        if q.reservation_id:
            query = query.where(c.reservation_id == q.reservation_id)
        if q.start is not None:
            query = query.where(c.created_at >= q.start)
        if q.end is not None:
            query = query.where(c.created_at < q.end)
        order = c.sequence.desc() if q.newest_first else c.sequence
        return [movement_of(r) for r in (await self.conn.execute(query.order_by(order).limit(q.limit))).all()]

    async def sums(
        self, tenant_id: str, warehouse_id: str | None, *, skus: SkuRange | None = None
    ) -> dict[Key, tuple[int, int]]:
        c = movements.c
        query = (
            select(c.warehouse_id, c.sku, func.sum(c.quantity_delta), func.sum(c.reserved_delta))
            .where(c.tenant_id == tenant_id)
            .group_by(c.warehouse_id, c.sku)
        )
        if warehouse_id is not None:
            query = query.where(c.warehouse_id == warehouse_id)
        if skus is not None:
            query = query.where(c.sku > skus.after, c.sku <= skus.last)
        rows = (await self.conn.execute(query)).all()
        return {(r[0], r[1]): (int(r[2] or 0), int(r[3] or 0)) for r in rows}

    async def demand(
        self,
        tenant_id: str,
        warehouse_id: str,
        start: datetime,
        end: datetime,
        skus: Sequence[str],
        *,
        after: str = "",
        limit: int | None = None,
    ) -> dict[str, DemandSums]:
        # One page: read in SKU order along the (tenant, warehouse, sku)
        # index, grouped as it goes, stopping after `limit` SKUs; never the
        # whole window.
        c = movements.c
        shipment = c.type == MovementType.SHIPMENT.value
        query = (
            select(
                c.sku,
                func.sum(c.quantity_delta).filter(shipment),
                func.sum(c.quantity_delta).filter(c.type == MovementType.RETURN.value),
                func.count().filter(shipment),
                func.min(c.effective_at).filter(shipment),
                func.max(c.effective_at).filter(shipment),
            )
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
        if after:
            query = query.where(c.sku > after)
        if limit is not None:
            query = query.order_by(c.sku).limit(limit)
        return {
            row[0]: DemandSums(
                -int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), _aware(row[4]), _aware(row[5])
            )
            for row in (await self.conn.execute(query)).all()
        }


def _aware(value: Any) -> datetime | None:
    # min()/max() of a time come back untyped (as text on SQLite).
    if value is not None and not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return UtcDateTime().process_result_value(value, None)  # type: ignore[arg-type]
