"""Orders: create (catalog check, price snapshot, stock reserved), read, list,
cancel (releases), ship (commits), and the sweep that marks lapsed holds."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.db import Database
from kit.errors import NotFound, Violations
from kit.identity import Principal
from svc_order import commands, domain, store
from svc_order.catalog import Catalog
from svc_order.domain import Order, OrderStatus, Shipment, order_name
from svc_order.stock import Stock
from svc_order.usecases.placing import Placement, priced, step_id

T = TypeVar("T")


def order_etag(order: Order) -> str:
    return etag.etag(order_name(order.id), order.version)


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    next_page_token: str


class _Fresh(Exception):
    """Raised inside a claim to learn, without writing, that a request is new."""


async def replayed(db: Database, key: idempotency.Key, payload: object, result_type: type[T]) -> T | None:
    """The stored result of `key` if it already took effect, else None (the
    probing claim is rolled back). A reused id with another payload is refused."""

    async def probe(conn: AsyncConnection) -> T:
        raise _Fresh

    try:
        return await idempotency.once(db, store.idempotency_records, key, payload, result_type, probe)
    except _Fresh:
        return None


def duplicate_external_id(existing: Order) -> errors.AlreadyExists:
    error = errors.AlreadyExists(
        "order", f"{existing.channel.value}/{existing.external_id}", field="order.external_id"
    )
    error.reason = "DUPLICATE_EXTERNAL_ID"
    error.metadata["order"] = order_name(existing.id)
    return error


class Orders:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        stock: Stock,
        placement: Placement,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.stock = stock
        self.placement = placement
        self.now = clock

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateOrder) -> Order:
        key = idempotency.Key(who.tenant_id, request_id, "CreateOrder")
        idempotency.validate_request_id(request_id)
        previous = await replayed(self.db, key, cmd, str)
        if previous is not None:
            return await self.get(who, previous)
        violations = Violations()
        if cmd.channel is None:
            violations.add("order.channel", "required")
        if not cmd.warehouse_id:
            violations.add("order.warehouse", "required")
        domain.check_lines(
            [line.sku for line in cmd.lines], [line.quantity for line in cmd.lines], "order.lines", violations
        )
        hold = domain.check_hold(cmd.hold, violations)
        domain.check_length(cmd.external_id, domain.MAX_REFERENCE, "order.external_id", violations)
        domain.check_length(cmd.customer, domain.MAX_REFERENCE, "order.customer", violations)
        violations.raise_if_any()
        assert cmd.channel is not None
        if cmd.external_id:
            async with self.db.snapshot() as conn:
                existing = await store.order_by_external_id(conn, who.tenant_id, cmd.channel, cmd.external_id)
            if existing is not None:
                raise duplicate_external_id(existing)
        lines = await priced(self.catalog, cmd.lines, "order.lines")
        now = self.now()
        draft = domain.new_order(
            str(uuid.uuid4()),
            who,
            cmd.channel,
            cmd.external_id,
            cmd.customer,
            cmd.warehouse_id,
            lines,
            cmd.note,
            now,
            now + hold,
        )

        async def save(order: Order) -> str:
            async def work(conn: AsyncConnection) -> str:
                number = await store.next_number(conn, who.tenant_id)
                await self._insert(conn, dataclasses.replace(order, number=number))
                return order.id

            return await idempotency.once(self.db, store.idempotency_records, key, cmd, str, work)

        try:
            order_id = await self.placement.place(draft, save, key=key)
        except errors.InvalidArgument as refused:
            if refused.reason != "UNKNOWN_WAREHOUSE":
                raise
            raise errors.InvalidArgument(
                [errors.FieldViolation("order.warehouse", "no such warehouse")], reason=refused.reason
            ) from refused
        return await self.get(who, order_id)

    async def _insert(self, conn: AsyncConnection, order: Order) -> None:
        if order.external_id:
            existing = await store.order_by_external_id(
                conn, order.tenant_id, order.channel, order.external_id
            )
            if existing is not None:
                raise duplicate_external_id(existing)
        await store.insert_order(conn, order)

    async def get(self, who: Principal, order_id: str) -> Order:
        async with self.db.snapshot() as conn:
            found = await store.order(conn, who.tenant_id, order_id)
        if found is None:
            raise NotFound("order", order_name(order_id))
        return found.as_seen(self.now())

    async def list_orders(self, who: Principal, query: commands.ListOrders) -> Page:
        size = paging.page_size(query.page_size)
        cursor = paging.decode(query.page_token)
        try:
            before = (datetime.fromisoformat(str(cursor["t"])), str(cursor["id"])) if cursor else None
        except (KeyError, ValueError):
            raise errors.InvalidArgument(
                [errors.FieldViolation("page_token", "not a token from an earlier response")]
            ) from None
        filters = {
            "statuses": query.statuses,
            "channel": query.channel.value if query.channel else "",
            "customer": query.customer,
            "warehouse_id": query.warehouse_id,
            "external_id": query.external_id,
            "sku": query.sku,
            "start": query.start,
            "end": query.end,
        }
        now = self.now()
        async with self.db.snapshot() as conn:
            found = await store.list_orders(conn, who.tenant_id, filters, before, size + 1, now)
        page = found[:size]
        token = ""
        if len(found) > size:
            last = page[-1]
            token = paging.encode({"t": last.order_time.isoformat(), "id": last.id})
        return Page([o.as_seen(now) for o in page], token)

    async def cancel(self, who: Principal, request_id: str, cmd: commands.CancelOrder) -> Order:
        async def work(conn: AsyncConnection) -> str:
            order = await self.locked(conn, who, cmd.order_id, cmd.etag)
            now = self.now()
            domain.require_status(order, now, (OrderStatus.RESERVED,), "cancel")
            # Released before the state is written, inside its transaction: if
            # the commit fails, a retry releases again (a replay) and commits.
            await self.stock.release(step_id(order.id, "release"), order.reservation_id)
            cancelled = dataclasses.replace(
                order,
                status=OrderStatus.CANCELLED,
                cancelled_at=now,
                cancel_reason=cmd.reason,
                updated_at=now,
                version=order.version + 1,
            )
            await store.update_order(conn, cancelled)
            return order.id

        key = idempotency.Key(who.tenant_id, request_id, "CancelOrder")
        order_id = await idempotency.once(self.db, store.idempotency_records, key, cmd, str, work)
        return await self.get(who, order_id)

    async def ship(self, who: Principal, request_id: str, cmd: commands.ShipOrder) -> Order:
        violations = Violations()
        domain.check_length(cmd.carrier, domain.MAX_SHIPMENT_FIELD, "carrier", violations)
        domain.check_length(cmd.tracking_number, domain.MAX_SHIPMENT_FIELD, "tracking_number", violations)
        violations.raise_if_any()

        async def work(conn: AsyncConnection) -> str:
            order = await self.locked(conn, who, cmd.order_id, cmd.etag)
            now = self.now()
            domain.require_status(order, now, (OrderStatus.RESERVED,), "ship")
            try:
                await self.stock.commit(step_id(order.id, "commit"), order.reservation_id, None)
            except errors.FailedPrecondition as refused:
                if refused.reason != "RESERVATION_NOT_ACTIVE":
                    raise
                raise errors.FailedPrecondition(
                    f"{order_name(order.id)} was not shipped before its hold lapsed",
                    reason="ORDER_EXPIRED",
                    metadata={"order": order_name(order.id)},
                ) from refused
            await store.update_order(
                conn,
                domain.shipped(order, Shipment(cmd.carrier, cmd.tracking_number, now), now),
                lines_changed=True,
            )
            return order.id

        key = idempotency.Key(who.tenant_id, request_id, "ShipOrder")
        order_id = await idempotency.once(self.db, store.idempotency_records, key, cmd, str, work)
        return await self.get(who, order_id)

    async def locked(self, conn: AsyncConnection, who: Principal, order_id: str, given_etag: str) -> Order:
        found = await store.order(conn, who.tenant_id, order_id, lock=True)
        if found is None:
            raise NotFound("order", order_name(order_id))
        etag.check(order_name(found.id), found.version, given_etag)
        return found

    async def sweep(self) -> int:
        """Marks RESERVED orders past their hold EXPIRED."""
        async with self.db.transaction() as conn:
            return await store.expire_lapsed(conn, self.now())
