"""Returns on SQL: a return's row, and the PENDING ones the booking loop retries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_order.domain import OrderReturn, PendingReturn, ReturnState
from svc_order.ports import Returns
from svc_order.store.tables import returns


class SqlReturns(Returns):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, tenant_id: str, booked: OrderReturn) -> None:
        await self.conn.execute(
            insert(returns).values(
                tenant_id=tenant_id,
                id=booked.id,
                order_id=booked.order_id,
                lines=json.dumps([list(pair) for pair in booked.lines]),
                reason=booked.reason.value,
                note=booked.note,
                warehouse_id=booked.warehouse_id,
                total_units=booked.total.units,
                total_nanos=booked.total.nanos,
                state=booked.state.value,
                stock_movements=json.dumps(list(booked.stock_movements)),
                creator_id=booked.creator_id,
                returned_at=booked.returned_at,
                booked_at=booked.booked_at,
            )
        )

    async def mark_booked(
        self, tenant_id: str, return_id: str, movements: Sequence[str], at: datetime
    ) -> None:
        await self.conn.execute(
            update(returns)
            .where(
                returns.c.tenant_id == tenant_id,
                returns.c.id == return_id,
                returns.c.state == ReturnState.PENDING.value,
            )
            .values(state=ReturnState.BOOKED.value, stock_movements=json.dumps(list(movements)), booked_at=at)
        )

    async def pending(self, limit: int) -> list[PendingReturn]:
        rows = await self.conn.execute(
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
