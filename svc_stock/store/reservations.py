"""Reservations and their lines on SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_stock import ports
from svc_stock.domain import Line, Reservation, ReservationState
from svc_stock.ports import Key, SkuRange
from svc_stock.store.tables import line_rows, reservation_lines, reservation_row, reservations

ACTIVE = ReservationState.ACTIVE.value


def reservation_of(row: Any, lines: Sequence[Line]) -> Reservation:
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


async def lines_of(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, list[Line]]:
    out: dict[str, list[Line]] = {i: [] for i in ids}
    if not ids:
        return out
    n = reservation_lines.c
    query = (
        select(reservation_lines)
        .where(n.tenant_id == tenant_id, n.reservation_id.in_(list(ids)))
        .order_by(n.reservation_id, n.line_no)
    )
    for row in (await conn.execute(query)).all():
        out[row.reservation_id].append(Line(row.warehouse_id, row.sku, row.quantity))
    return out


async def insert_reservations(conn: AsyncConnection, written: Sequence[Reservation]) -> None:
    if written:
        await conn.execute(insert(reservations), [reservation_row(r) for r in written])
        await conn.execute(insert(reservation_lines), [row for r in written for row in line_rows(r)])


def lapsed_with_lines_on(tenant_id: str, keys: Sequence[Key], now: datetime) -> Any:
    """The ids of the lapsed, not yet swept reservations with a line on these levels."""
    r, n = reservations.c, reservation_lines.c
    return (
        select(r.id)
        .join_from(
            reservations, reservation_lines, and_(n.tenant_id == r.tenant_id, n.reservation_id == r.id)
        )
        .where(
            r.tenant_id == tenant_id,
            r.state == ACTIVE,
            r.expire_at <= now,
            tuple_(n.warehouse_id, n.sku).in_(sorted(set(keys))),
        )
    )


class SqlReservations(ports.Reservations):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, tenant_id: str, reservation_id: str, *, lock: bool = False) -> Reservation | None:
        query = select(reservations).where(
            reservations.c.tenant_id == tenant_id, reservations.c.id == reservation_id
        )
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        return reservation_of(row, (await lines_of(self.conn, tenant_id, [row.id]))[row.id])

    async def find(
        self,
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
            query = query.where(r.state == ACTIVE, r.expire_at > now)
        elif state is ReservationState.EXPIRED:
            query = query.where((r.state == state.value) | and_(r.state == ACTIVE, r.expire_at <= now))
        elif state is not None:
            query = query.where(r.state == state.value)
        if reference:
            query = query.where(r.reference == reference)
        if warehouse_id is not None or sku:
            n = reservation_lines.c
            lines = select(n.reservation_id).where(n.tenant_id == tenant_id)
            if warehouse_id is not None:
                lines = lines.where(n.warehouse_id == warehouse_id)
            if sku:
                lines = lines.where(n.sku == sku)
            query = query.where(r.id.in_(lines))
        if before is not None:
            query = query.where(tuple_(r.created_at, r.id) < tuple_(*before))
        rows = (await self.conn.execute(query.order_by(r.created_at.desc(), r.id.desc()).limit(limit))).all()
        found = await lines_of(self.conn, tenant_id, [row.id for row in rows])
        return [reservation_of(row, found[row.id]) for row in rows]

    async def save(self, reservation: Reservation, expected_version: int) -> bool:
        r = reservation
        result = await self.conn.execute(
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

    async def lapsed(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        r = reservations.c
        query = (
            select(r.tenant_id, r.id)
            .where(r.state == ACTIVE, r.expire_at <= now)
            .order_by(r.expire_at)
            .limit(limit)
        )
        return [(row.tenant_id, row.id) for row in (await self.conn.execute(query)).all()]

    async def lapsed_on_levels(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> list[str]:
        rows = (await self.conn.execute(lapsed_with_lines_on(tenant_id, keys, now).distinct())).all()
        return sorted(row.id for row in rows)

    async def lapsed_holds(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> dict[Key, int]:
        if not keys:
            return {}
        return await self._sums(tenant_id, now, keys=keys)

    async def held(
        self, tenant_id: str, warehouse_id: str | None, *, skus: SkuRange | None = None
    ) -> dict[Key, int]:
        return await self._sums(tenant_id, None, warehouse_id=warehouse_id, skus=skus)

    async def _sums(
        self,
        tenant_id: str,
        lapsed_at: datetime | None,
        *,
        keys: Sequence[Key] = (),
        warehouse_id: str | None = None,
        skus: SkuRange | None = None,
    ) -> dict[Key, int]:
        """Per level, the lines of ACTIVE reservations (only those lapsed at
        `lapsed_at`, if given)."""
        r, n = reservations.c, reservation_lines.c
        query = (
            select(n.warehouse_id, n.sku, func.sum(n.quantity))
            .join_from(
                reservation_lines, reservations, and_(n.tenant_id == r.tenant_id, n.reservation_id == r.id)
            )
            .where(r.tenant_id == tenant_id, r.state == ACTIVE)
            .group_by(n.warehouse_id, n.sku)
        )
        if lapsed_at is not None:
            query = query.where(r.expire_at <= lapsed_at)
        if keys:
            query = query.where(tuple_(n.warehouse_id, n.sku).in_(sorted(set(keys))))
        if warehouse_id is not None:
            query = query.where(n.warehouse_id == warehouse_id)
        if skus is not None:
            query = query.where(n.sku > skus.after, n.sku <= skus.last)
        return {(row[0], row[1]): int(row[2]) for row in (await self.conn.execute(query)).all()}
