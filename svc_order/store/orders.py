"""Orders on SQL: an order's row, its lines and the returns it carries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_order.domain import Line, Order, OrderReturn, OrderStatus, SalesChannel
from svc_order.ports import OrderFilter, Orders
from svc_order.store.rows import line_of, line_rows, order_of, return_of, state_of
from svc_order.store.tables import lines, numbers, orders, returns

# One statement for every line of a save, sent as one batch of parameters.
_LINE_QUANTITIES = (
    update(lines)
    .where(
        lines.c.tenant_id == bindparam("t"),
        lines.c.order_id == bindparam("o"),
        lines.c.position == bindparam("p"),
    )
    .values(shipped_quantity=bindparam("shipped"), returned_quantity=bindparam("back"))
)


class SqlOrders(Orders):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, tenant_id: str, order_id: str, *, lock: bool = False) -> Order | None:
        query = select(orders).where(orders.c.tenant_id == tenant_id, orders.c.id == order_id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found = await self._load(tenant_id, query)
        return found[0] if found else None

    async def by_external_id(self, tenant_id: str, channel: SalesChannel, external_id: str) -> Order | None:
        query = select(orders).where(
            orders.c.tenant_id == tenant_id,
            orders.c.channel == channel.value,
            orders.c.external_id == external_id,
        )
        found = await self._load(tenant_id, query)
        return found[0] if found else None

    async def next_number(self, tenant_id: str) -> int:
        dialect_insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        statement = (
            dialect_insert(numbers)
            .values(tenant_id=tenant_id, last_number=1)
            .on_conflict_do_update(
                index_elements=[numbers.c.tenant_id], set_={"last_number": numbers.c.last_number + 1}
            )
            .returning(numbers.c.last_number)
        )
        return int((await self.conn.execute(statement)).scalar_one())

    async def add(self, order: Order) -> None:
        await self.conn.execute(
            insert(orders).values(
                tenant_id=order.tenant_id,
                id=order.id,
                number=order.number,
                channel=order.channel.value,
                external_id=order.external_id or None,  # NULL is unique only when set
                customer=order.customer,
                warehouse_id=order.warehouse_id,
                currency_code=order.currency_code,
                note=order.note,
                order_time=order.order_time,
                creator_id=order.creator_id,
                created_at=order.created_at,
                imported=order.imported,
                **state_of(order),
            )
        )
        await self.conn.execute(insert(lines), line_rows(order))

    async def save(self, order: Order, expected_version: int) -> bool:
        result = await self.conn.execute(
            update(orders)
            .where(
                orders.c.tenant_id == order.tenant_id,
                orders.c.id == order.id,
                orders.c.version == expected_version,
            )
            .values(**state_of(order))
        )
        if result.rowcount != 1:
            return False
        await self.conn.execute(
            _LINE_QUANTITIES,
            [
                {
                    "t": order.tenant_id,
                    "o": order.id,
                    "p": i,
                    "shipped": x.shipped_quantity,
                    "back": x.returned_quantity,
                }
                for i, x in enumerate(order.lines)
            ],
        )
        return True

    async def remove(self, tenant_id: str, order_id: str) -> None:
        await self.conn.execute(
            lines.delete().where(lines.c.tenant_id == tenant_id, lines.c.order_id == order_id)
        )
        await self.conn.execute(
            orders.delete().where(orders.c.tenant_id == tenant_id, orders.c.id == order_id)
        )

    async def find(
        self,
        tenant_id: str,
        narrowed: OrderFilter,
        before: tuple[datetime, str] | None,
        limit: int,
        now: datetime,
    ) -> list[Order]:
        c = orders.c
        query = select(orders).where(c.tenant_id == tenant_id)
        if narrowed.statuses:
            query = query.where(or_(*(_seen_as(status, now) for status in narrowed.statuses)))
        for column, value in (
            (c.channel, narrowed.channel.value if narrowed.channel else ""),
            (c.customer, narrowed.customer),
            (c.warehouse_id, narrowed.warehouse_id),
            (c.external_id, narrowed.external_id),
        ):
            if value:
                query = query.where(column == value)
        if narrowed.sku:
            query = query.where(
                exists().where(
                    lines.c.tenant_id == c.tenant_id, lines.c.order_id == c.id, lines.c.sku == narrowed.sku
                )
            )
        if narrowed.start:
            query = query.where(c.order_time >= narrowed.start)
        if narrowed.end:
            query = query.where(c.order_time < narrowed.end)
        if before:
            # A row comparison: it positions the (tenant, order_time, id) index scan.
            query = query.where(tuple_(c.order_time, c.id) < tuple_(*before))
        query = query.order_by(c.order_time.desc(), c.id.desc()).limit(limit)
        return await self._load(tenant_id, query)

    async def expire_lapsed(self, now: datetime) -> int:
        result = await self.conn.execute(
            update(orders)
            .where(orders.c.status == OrderStatus.RESERVED.value, orders.c.hold_expire_at <= now)
            .values(
                status=OrderStatus.EXPIRED.value,
                cancelled_at=orders.c.hold_expire_at,
                updated_at=now,
                version=orders.c.version + 1,
            )
        )
        return int(result.rowcount or 0)

    async def _load(self, tenant_id: str, query: Select[Any]) -> list[Order]:
        rows = (await self.conn.execute(query)).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        found_lines = await self.conn.execute(
            select(lines)
            .where(lines.c.tenant_id == tenant_id, lines.c.order_id.in_(ids))
            .order_by(lines.c.order_id, lines.c.position)
        )
        found_returns = await self.conn.execute(
            select(returns)
            .where(returns.c.tenant_id == tenant_id, returns.c.order_id.in_(ids))
            .order_by(returns.c.returned_at, returns.c.id)
        )
        lines_of: dict[str, list[Line]] = {i: [] for i in ids}
        for r in found_lines:
            lines_of[r.order_id].append(line_of(r))
        currency = {row.id: row.currency_code for row in rows}
        returns_of: dict[str, list[OrderReturn]] = {i: [] for i in ids}
        for r in found_returns:
            returns_of[r.order_id].append(return_of(r, currency[r.order_id]))
        return [order_of(row, lines_of[row.id], returns_of[row.id]) for row in rows]


def _seen_as(status: OrderStatus, now: datetime) -> ColumnElement[bool]:
    c = orders.c
    if status is OrderStatus.RESERVED:
        return and_(c.status == status.value, c.hold_expire_at > now)
    if status is OrderStatus.EXPIRED:
        return or_(
            c.status == status.value, and_(c.status == OrderStatus.RESERVED.value, c.hold_expire_at <= now)
        )
    return c.status == status.value
