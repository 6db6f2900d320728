"""Reservation batches in SQLAlchemy Core (SQLite; PostgreSQL has its own
statements in `pg_batches`). The same reads and writes as there, one
statement at a time, in the lock order of every writer: claims (sorted), the
lapsed holds' reservation rows, the levels by (warehouse_id, sku), the
tenant's sequence row last."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import Database
from kit.sql import BareUnitOfWork
from svc_stock import ports
from svc_stock.domain import Decision, Locked, Reservation
from svc_stock.ports import Key
from svc_stock.store.ledger import SqlLedger
from svc_stock.store.levels import key_in, level_of
from svc_stock.store.reservations import insert_reservations, lapsed_with_lines_on, lines_of, reservation_of
from svc_stock.store.tables import idempotency_records, levels, reservations
from svc_stock.store.warehouses import SqlWarehouses


class SqlReservationBatch(ports.ReservationBatch):
    def __init__(self, conn: AsyncConnection, tenant_id: str) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.written = False

    async def claim_and_lock(
        self, claims: Sequence[Mapping[str, Any]], keys: Sequence[Key], now: datetime
    ) -> tuple[set[str], Locked]:
        records = idempotency_records
        dialect_insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        claimed: set[str] = set()
        for claim in sorted(claims, key=lambda c: (c["scope"], c["request_id"])):
            inserted = await self.conn.execute(
                dialect_insert(records)
                .values(**claim)
                .on_conflict_do_nothing(index_elements=[records.c.scope, records.c.request_id])
                .returning(records.c.request_id)
            )
            claimed.update(row.request_id for row in inserted)
        if not claimed:
            return claimed, Locked({}, {}, ())
        lapsed = await self._lapsed(keys, now)
        held = [(line.warehouse_id, line.sku) for r in lapsed for line in r.lines]
        query = (
            select(levels)
            .where(levels.c.tenant_id == self.tenant_id, key_in([*keys, *held]))
            .order_by(levels.c.warehouse_id, levels.c.sku)
            .with_for_update()
        )
        locked = {(row.warehouse_id, row.sku): level_of(row, 0) for row in await self.conn.execute(query)}
        found = await SqlWarehouses(self.conn).by_id(self.tenant_id, [w for w, _ in keys])
        return claimed, Locked(found, locked, lapsed)

    async def _lapsed(self, keys: Sequence[Key], now: datetime) -> list[Reservation]:
        r = reservations.c
        query = (
            select(reservations)
            .where(r.tenant_id == self.tenant_id, r.id.in_(lapsed_with_lines_on(self.tenant_id, keys, now)))
            .order_by(r.id)
            .with_for_update()
        )
        rows = (await self.conn.execute(query)).all()
        found = await lines_of(self.conn, self.tenant_id, [row.id for row in rows])
        return [reservation_of(row, found[row.id]) for row in rows]

    async def write(self, decision: Decision, dropped: Sequence[str], now: datetime) -> None:
        records = idempotency_records
        if dropped:
            await self.conn.execute(
                delete(records).where(records.c.scope == self.tenant_id, records.c.request_id.in_(dropped))
            )
        for ended in decision.expired:
            await self.conn.execute(
                update(reservations)
                .where(reservations.c.tenant_id == ended.tenant_id, reservations.c.id == ended.id)
                .values(
                    state=ended.state.value,
                    updated_at=ended.updated_at,
                    ended_at=ended.ended_at,
                    version=ended.version,
                )
            )
        await insert_reservations(self.conn, [g.reservation for g in decision.grants.values()])
        for level in decision.levels.values():
            await self.conn.execute(
                update(levels)
                .where(
                    levels.c.tenant_id == self.tenant_id,
                    levels.c.warehouse_id == level.warehouse_id,
                    levels.c.sku == level.sku,
                )
                .values(on_hand=level.on_hand, reserved=level.reserved, version=level.version, updated_at=now)
            )
        ledger = SqlLedger(self.conn)
        self.first = await ledger.next_sequences(self.tenant_id, len(decision.movements))
        await ledger.append(self.tenant_id, decision.numbered(self.first))
        self.written = True

    async def first_sequence(self) -> int:
        return self.first


class SqlReservationBatches(ports.ReservationBatches):
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def open(self, tenant_id: str) -> AsyncIterator[ports.ReservationBatch]:
        async with BareUnitOfWork(self.db, idempotency_records) as unit:
            batch = SqlReservationBatch(unit.conn, tenant_id)
            yield batch
            if batch.written:
                await unit.commit()
