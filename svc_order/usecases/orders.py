"""Orders: create (catalog check, price snapshot, stock reserved), read, list,
cancel (releases), ship (commits), and the sweep that marks lapsed holds."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from clients.catalog import add_unknown_skus
from kit import errors, etag, paging
from kit.errors import FieldViolation, Violations
from kit.idempotency import Key
from kit.identity import Principal
from kit.paging import Page
from kit.uow import Units, revise
from svc_order import commands, domain
from svc_order.catalog import Catalog
from svc_order.domain import Line, Order, Shipment, order_name
from svc_order.ports import OrderFilter, OrderUnit, Warehouses
from svc_order.stock import Stock
from svc_order.usecases.placing import Placement, step_id


def order_etag(order: Order) -> str:
    return etag.etag(order_name(order.id), order.version)


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
        units: Units[OrderUnit],
        catalog: Catalog,
        stock: Stock,
        warehouses: Warehouses,
        placement: Placement,
    ) -> None:
        self.units = units
        self.catalog = catalog
        self.stock = stock
        self.warehouses = warehouses
        self.placement = placement
        self.now = units.now

    async def create(self, who: Principal, request_id: str, cmd: commands.CreateOrder) -> Order:
        once = self.units.once(Key(who.tenant_id, request_id, "CreateOrder"), cmd, str)
        previous = await once.earlier()
        if previous is not None:
            return await self.get(who, previous)
        violations = Violations(list(cmd.unreadable))
        domain.require(cmd.channel is not None, "order.channel", violations)
        domain.require(bool(cmd.warehouse_id), "order.warehouse", violations)
        domain.check_lines(
            [line.sku for line in cmd.lines], [line.quantity for line in cmd.lines], "order.lines", violations
        )
        hold = domain.check_hold(cmd.hold, violations)
        domain.check_length(cmd.external_id, domain.MAX_REFERENCE, "order.external_id", violations)
        domain.check_length(cmd.customer, domain.MAX_REFERENCE, "order.customer", violations)
        await self._refuse(violations, cmd.warehouse_id)
        assert cmd.channel is not None
        if cmd.external_id:
            async with self.units.read() as uow:
                existing = await uow.orders.by_external_id(who.tenant_id, cmd.channel, cmd.external_id)
            if existing is not None:
                raise duplicate_external_id(existing)
        now = self.now()
        draft = domain.new_order(
            str(uuid.uuid4()),
            who,
            cmd.channel,
            cmd.external_id,
            cmd.customer,
            cmd.warehouse_id,
            await self._priced(cmd),
            cmd.note,
            now,
            now + hold,
        )

        async def save(order: Order) -> str:
            async def work(uow: OrderUnit) -> str:
                number = await uow.orders.next_number(who.tenant_id)
                if order.external_id:
                    existing = await uow.orders.by_external_id(
                        order.tenant_id, order.channel, order.external_id
                    )
                    if existing is not None:
                        raise duplicate_external_id(existing)
                await uow.orders.add(dataclasses.replace(order, number=number))
                return order.id

            return await once(work)

        try:
            order_id = await self.placement.place(draft, save, key=once.key)
        except errors.InvalidArgument as refused:
            if refused.reason != "UNKNOWN_WAREHOUSE":
                raise
            raise errors.InvalidArgument(
                [FieldViolation("order.warehouse", "no such warehouse")], reason=refused.reason
            ) from refused
        return await self.get(who, order_id)

    async def _priced(self, cmd: commands.CreateOrder) -> tuple[Line, ...]:
        """The lines with the catalog's description and prices snapshotted;
        unknown SKUs are refused naming each line."""
        lookup = await self.catalog.variants([line.sku for line in cmd.lines])
        unknown = set(lookup.unknown)
        violations = Violations()
        add_unknown_skus(
            violations,
            ((f"order.lines[{i}].sku", line.sku) for i, line in enumerate(cmd.lines) if line.sku in unknown),
        )
        await self._refuse(violations, cmd.warehouse_id)
        return domain.price_lines(
            [line.sku for line in cmd.lines],
            [line.quantity for line in cmd.lines],
            [line.unit_price for line in cmd.lines],
            lookup.variants,
            "order.lines",
        )

    async def _refuse(self, violations: Violations, warehouse_id: str) -> None:
        """Raise a refused request's violations with its warehouse among them
        if svc_stock knows no such warehouse. Only a request refused anyway
        asks: for one that goes on, the reservation answers for the warehouse."""
        if not violations.items:
            return
        if warehouse_id:
            try:
                unknown = await self.warehouses.warehouse_active(warehouse_id) is None
            except errors.Unavailable:
                unknown = False  # the violations known already are still worth telling
            if unknown:
                violations.add("order.warehouse", "no such warehouse", reason="UNKNOWN_WAREHOUSE")
        violations.raise_if_any()

    async def get(self, who: Principal, order_id: str) -> Order:
        async with self.units.read() as uow:
            found = await uow.orders.get(who.tenant_id, order_id)
        if found is None:
            raise errors.NotFound("order", order_name(order_id))
        return found.as_seen(self.now())

    async def list_orders(self, who: Principal, query: commands.ListOrders) -> Page[Order]:
        size = paging.page_size(query.page_size)
        narrowed = OrderFilter(
            # Sorted: the same statuses in another order are the same request.
            tuple(sorted(set(query.statuses))),
            query.channel,
            query.customer,
            query.warehouse_id,
            query.external_id,
            query.sku,
            query.start,
            query.end,
        )
        filters = paging.filters_digest(*dataclasses.astuple(narrowed))
        cursor = paging.cursor_for(query.page_token, filters, {"t": datetime, "id": str})
        before = (datetime.fromisoformat(cursor["t"]), cursor["id"]) if cursor else None
        now = self.now()
        async with self.units.read() as uow:
            found = await uow.orders.find(who.tenant_id, narrowed, before, size + 1, now)
        return paging.page_of(
            [o.as_seen(now) for o in found],
            size,
            lambda last: {"t": last.order_time.isoformat(), "id": last.id, "f": filters},
        )

    async def cancel(self, who: Principal, request_id: str, cmd: commands.CancelOrder) -> Order:
        async def work(uow: OrderUnit) -> str:
            order = await revise(
                await uow.orders.get(who.tenant_id, cmd.order_id, lock=True),
                lambda current: domain.cancelled(current, cmd.reason, self.now()),
                uow.orders.save,
                kind="order",
                name=order_name(cmd.order_id),
                given_etag=cmd.etag,
            )
            # Released inside the transaction that cancels: if the commit
            # fails, a retry releases again (a replay) and commits.
            await self.stock.release(step_id(order.id, "release"), order.reservation_id)
            return order.id

        key = Key(who.tenant_id, request_id, "CancelOrder")
        return await self.get(who, await self.units.once(key, cmd, str)(work))

    async def ship(self, who: Principal, request_id: str, cmd: commands.ShipOrder) -> Order:
        violations = Violations()
        domain.check_length(cmd.carrier, domain.MAX_SHIPMENT_FIELD, "carrier", violations)
        domain.check_length(cmd.tracking_number, domain.MAX_SHIPMENT_FIELD, "tracking_number", violations)
        violations.raise_if_any()

        def shipped(current: Order) -> Order:
            now = self.now()
            domain.require_status(current, now, (domain.OrderStatus.RESERVED,), "ship")
            return domain.shipped(current, Shipment(cmd.carrier, cmd.tracking_number, now), now)

        async def work(uow: OrderUnit) -> str:
            order = await revise(
                await uow.orders.get(who.tenant_id, cmd.order_id, lock=True),
                shipped,
                uow.orders.save,
                kind="order",
                name=order_name(cmd.order_id),
                given_etag=cmd.etag,
            )
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
            return order.id

        key = Key(who.tenant_id, request_id, "ShipOrder")
        return await self.get(who, await self.units.once(key, cmd, str)(work))

    async def sweep(self) -> int:
        """Marks RESERVED orders past their hold EXPIRED."""
        now = self.now()

        async def work(uow: OrderUnit) -> int:
            return await uow.orders.expire_lapsed(now)

        return await self.units.run(work)
