"""svc_procure's unit of work on SQL, and where its use cases get them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
from kit.sql import SqlUnitOfWork
from kit.uow import Units
from svc_procure.ports import ProcureUnit
from svc_procure.store.orders import SqlPurchaseOrders, SqlReceipts
from svc_procure.store.suppliers import SqlSupplierItems, SqlSuppliers
from svc_procure.store.tables import idempotency_records


class SqlProcureUnit(SqlUnitOfWork, ProcureUnit):
    def bind(self, conn: AsyncConnection) -> None:
        self.suppliers = SqlSuppliers(conn)
        self.items = SqlSupplierItems(conn)
        self.orders = SqlPurchaseOrders(conn)
        self.receipts = SqlReceipts(conn)


def units(db: Database, clock: Callable[[], datetime]) -> Units[ProcureUnit]:
    def opener(*, read_only: bool) -> ProcureUnit:
        # Reads see one snapshot: a replenishment proposal reads orders,
        # items and suppliers that must agree with each other.
        return SqlProcureUnit(db, idempotency_records, read_only=read_only, repeatable=read_only)

    return Units(opener, clock)
