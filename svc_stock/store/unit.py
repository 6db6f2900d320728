"""svc_stock's unit of work on SQL, and where the use cases get theirs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
from kit.sql import SqlUnitOfWork
from kit.uow import Units
from svc_stock import ports
from svc_stock.store.batches import SqlReservationBatches
from svc_stock.store.ledger import SqlLedger
from svc_stock.store.levels import SqlLevels
from svc_stock.store.pg_batches import PgReservationBatches
from svc_stock.store.reservations import SqlReservations
from svc_stock.store.tables import idempotency_records
from svc_stock.store.warehouses import SqlWarehouses


class SqlStockUnit(SqlUnitOfWork, ports.StockUnit):
    def bind(self, conn: AsyncConnection) -> None:
        self.warehouses = SqlWarehouses(conn)
        self.levels = SqlLevels(conn)
        self.ledger = SqlLedger(conn)
        self.reservations = SqlReservations(conn)


def units(db: Database, clock: Callable[[], datetime]) -> Units[ports.StockUnit]:
    """Units of work on `db`. A read-only unit reads one snapshot throughout
    (REPEATABLE READ on PostgreSQL; SQLite reads are snapshots): a
    reconciliation or the start of a stream sees levels and ledger agree."""

    def opener(*, read_only: bool) -> ports.StockUnit:
        return SqlStockUnit(db, idempotency_records, read_only=read_only, repeatable=read_only)

    return Units(opener, clock)


def reservation_batches(db: Database) -> ports.ReservationBatches:
    if db.dialect == "postgresql":
        return PgReservationBatches(db)
    return SqlReservationBatches(db)
