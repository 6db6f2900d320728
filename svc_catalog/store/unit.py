"""svc_catalog's unit of work on SQL, and where its use cases get one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
from kit.sql import SqlUnitOfWork
from kit.uow import Units
from svc_catalog.ports import CatalogUnit
from svc_catalog.store.missed import SqlMissedInvalidations
from svc_catalog.store.products import SqlProducts
from svc_catalog.store.tables import idempotency_records
from svc_catalog.store.variants import SqlVariants


class SqlCatalogUnit(SqlUnitOfWork, CatalogUnit):
    def bind(self, conn: AsyncConnection) -> None:
        self.products = SqlProducts(conn)
        self.variants = SqlVariants(conn)
        self.missed = SqlMissedInvalidations(conn)


def units(db: Database, clock: Callable[[], datetime]) -> Units[CatalogUnit]:
    def open_unit(*, read_only: bool) -> CatalogUnit:
        return SqlCatalogUnit(db, idempotency_records, read_only=read_only)

    return Units(open_unit, clock)
