"""svc_order's unit of work on SQL, and where its use cases get one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
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


def units(db: Database, clock: Callable[[], datetime]) -> Units[OrderUnit]:
    return Units(lambda *, read_only: SqlOrderUnit(db, idempotency_records, read_only=read_only), clock)
