"""svc_order's unit of work on SQL, and where its use cases get one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
from kit.idempotency import Key
from kit.sql import SqlUnitOfWork
from kit.uow import Units
from svc_order.ports import OrderUnit
from svc_order.store.orders import SqlOrders
from svc_order.store.returns import SqlReturns
from svc_order.store.tables import idempotency_records


class SqlOrderUnit(SqlUnitOfWork, OrderUnit):
    def bind(self, conn: AsyncConnection) -> None:
        self.orders = SqlOrders(conn)
        self.returns = SqlReturns(conn)

    async def forget_claim(self, key: Key) -> None:
        records = idempotency_records
        await self.conn.execute(
            records.delete().where(records.c.scope == key.scope, records.c.request_id == key.request_id)
        )


def units(db: Database, clock: Callable[[], datetime]) -> Units[OrderUnit]:
    return Units(lambda *, read_only: SqlOrderUnit(db, idempotency_records, read_only=read_only), clock)
