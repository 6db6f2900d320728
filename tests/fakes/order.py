"""svc_order in memory: its repositories and unit of work over plain dicts,
and stand-ins for the catalog and svc_stock it calls, for fast
specifications of its use cases (no database, no process, no network)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kit import errors
from kit.errors import FieldViolation, PreconditionViolation
from kit.memory import Memory, MemoryUnitOfWork, State
from kit.uow import Units
from svc_order.catalog import Lookup
from svc_order.domain import (
    CatalogVariant,
    Order,
    OrderReturn,
    OrderStatus,
    PendingReturn,
    ReturnState,
    SalesChannel,
)
from svc_order.ports import OrderFilter, Orders, OrderUnit, Returns


class Clock:
    """A clock the specification moves by hand."""

    def __init__(self, now: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class OrderState(State):
    orders: dict[tuple[str, str], Order] = field(default_factory=dict)  # returns kept apart
    returns: dict[tuple[str, str], OrderReturn] = field(default_factory=dict)
    return_tenants: dict[str, str] = field(default_factory=dict)  # return id -> tenant
    numbers: dict[str, int] = field(default_factory=dict)


class MemoryOrders(Orders):
    def __init__(self, state: OrderState) -> None:
        self.state = state

    def _with_returns(self, order: Order) -> Order:
        its = sorted(
            (
                r
                for (t, _), r in self.state.returns.items()
                if t == order.tenant_id and r.order_id == order.id
            ),
            key=lambda r: (r.returned_at, r.id),
        )
        return dataclasses.replace(order, returns=tuple(its))

    async def get(self, tenant_id: str, order_id: str, *, lock: bool = False) -> Order | None:
        found = self.state.orders.get((tenant_id, order_id))
        return None if found is None else self._with_returns(found)

    async def by_external_id(self, tenant_id: str, channel: SalesChannel, external_id: str) -> Order | None:
        for (tenant, _), order in self.state.orders.items():
            if (tenant, order.channel, order.external_id) == (tenant_id, channel, external_id):
                return self._with_returns(order)
        return None

    async def next_number(self, tenant_id: str) -> int:
        self.state.numbers[tenant_id] = self.state.numbers.get(tenant_id, 0) + 1
        return self.state.numbers[tenant_id]

    async def add(self, order: Order) -> None:
        for other in self.state.orders.values():
            if other.tenant_id != order.tenant_id:
                continue
            # The SQL table's unique constraints.
            if other.id == order.id or other.number == order.number:
                raise ValueError(f"order {order.id} or number {order.number} exists")
            if order.external_id and (other.channel, other.external_id) == (order.channel, order.external_id):
                raise ValueError(f"external id {order.external_id} exists")
        self.state.orders[order.tenant_id, order.id] = dataclasses.replace(order, returns=())

    async def save(self, order: Order, expected_version: int) -> bool:
        stored = self.state.orders.get((order.tenant_id, order.id))
        if stored is None or stored.version != expected_version:
            return False
        self.state.orders[order.tenant_id, order.id] = dataclasses.replace(order, returns=())
        return True

    async def remove(self, tenant_id: str, order_id: str) -> None:
        self.state.orders.pop((tenant_id, order_id), None)

    async def find(
        self,
        tenant_id: str,
        narrowed: OrderFilter,
        before: tuple[datetime, str] | None,
        limit: int,
        now: datetime,
    ) -> list[Order]:
        def wanted(o: Order) -> bool:
            return (
                o.tenant_id == tenant_id
                and (not narrowed.statuses or o.status_at(now) in narrowed.statuses)
                and (narrowed.channel is None or o.channel is narrowed.channel)
                and (not narrowed.customer or o.customer == narrowed.customer)
                and (not narrowed.warehouse_id or o.warehouse_id == narrowed.warehouse_id)
                and (not narrowed.external_id or o.external_id == narrowed.external_id)
                and (not narrowed.sku or any(line.sku == narrowed.sku for line in o.lines))
                and (narrowed.start is None or o.order_time >= narrowed.start)
                and (narrowed.end is None or o.order_time < narrowed.end)
                and (before is None or (o.order_time, o.id) < before)
            )

        found = sorted(
            filter(wanted, self.state.orders.values()), key=lambda o: (o.order_time, o.id), reverse=True
        )
        return [self._with_returns(o) for o in found[:limit]]

    async def expire_lapsed(self, now: datetime) -> int:
        lapsed = [
            key
            for key, o in self.state.orders.items()
            if o.status is OrderStatus.RESERVED and o.hold_expire_at <= now
        ]
        for key in lapsed:
            o = self.state.orders[key]
            self.state.orders[key] = dataclasses.replace(
                o,
                status=OrderStatus.EXPIRED,
                cancelled_at=o.hold_expire_at,
                updated_at=now,
                version=o.version + 1,
            )
        return len(lapsed)


class MemoryReturns(Returns):
    def __init__(self, state: OrderState) -> None:
        self.state = state

    async def add(self, tenant_id: str, booked: OrderReturn) -> None:
        if (tenant_id, booked.id) in self.state.returns:
            raise ValueError(f"return {booked.id} exists")
        self.state.returns[tenant_id, booked.id] = booked

    async def mark_booked(
        self, tenant_id: str, return_id: str, movements: Sequence[str], at: datetime
    ) -> None:
        found = self.state.returns.get((tenant_id, return_id))
        if found is not None and found.state is ReturnState.PENDING:
            self.state.returns[tenant_id, return_id] = dataclasses.replace(
                found, state=ReturnState.BOOKED, stock_movements=tuple(movements), booked_at=at
            )

    async def pending(self, limit: int) -> list[PendingReturn]:
        waiting = sorted(
            ((t, r) for (t, _), r in self.state.returns.items() if r.state is ReturnState.PENDING),
            key=lambda pair: pair[1].returned_at,
        )
        return [
            PendingReturn(t, r.id, r.order_id, r.lines, r.warehouse_id, r.note) for t, r in waiting[:limit]
        ]


class MemoryOrderUnit(MemoryUnitOfWork[OrderState], OrderUnit):
    def bind(self, state: OrderState) -> None:
        self.orders = MemoryOrders(state)
        self.returns = MemoryReturns(state)


def units(clock: Clock, memory: Memory[OrderState] | None = None) -> Units[OrderUnit]:
    kept = memory or Memory(OrderState())
    return Units(lambda *, read_only: MemoryOrderUnit(kept, read_only=read_only), clock)


class FakeCatalog:
    """The catalog port: the variants it was given; `down` answers UNAVAILABLE."""

    def __init__(self, variants: Sequence[CatalogVariant] = ()) -> None:
        self.known = {v.sku: v for v in variants}
        self.down = False
        self.asked: list[list[str]] = []

    async def variants(self, skus: Sequence[str]) -> Lookup:
        self.asked.append(list(skus))
        if self.down:
            raise errors.Unavailable("svc_catalog could not be reached", reason="CATALOG_UNAVAILABLE")
        wanted = list(dict.fromkeys(skus))
        return Lookup(
            {s: self.known[s] for s in wanted if s in self.known},
            tuple(s for s in wanted if s not in self.known),
        )


@dataclass
class Hold:
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    expire_at: datetime
    state: str = "active"  # active, released, committed


class FakeStock:
    """svc_stock as svc_order sees it (the stock and warehouses ports):
    levels per warehouse and SKU, holds with leases on the injected clock,
    replays per request_id, and refusals as svc_stock words them. `down`
    answers every call UNAVAILABLE; `failing[call]` refuses one kind of call."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.warehouses: dict[str, bool] = {}  # id -> active
        self.on_hand: dict[tuple[str, str], int] = {}
        self.holds: dict[str, Hold] = {}
        self.replies: dict[str, str | list[str]] = {}
        self.returned: list[tuple[str, str, tuple[tuple[str, int], ...]]] = []
        self.down = False
        self.failing: dict[str, errors.ServiceError] = {}
        self.calls: list[str] = []

    def stock(self, warehouse_id: str, sku: str, quantity: int, *, active: bool = True) -> None:
        self.warehouses[warehouse_id] = active
        self.on_hand[warehouse_id, sku] = quantity

    def held(self, warehouse_id: str, sku: str) -> int:
        now = self.clock()
        return sum(
            q
            for h in self.holds.values()
            if h.warehouse_id == warehouse_id and h.state == "active" and h.expire_at > now
            for s, q in h.lines
            if s == sku
        )

    def _enter(self, call: str, request_id: str) -> str | list[str] | None:
        self.calls.append(call)
        if self.down:
            raise errors.Unavailable("svc_stock could not be reached", reason="STOCK_UNAVAILABLE")
        if call in self.failing:
            raise self.failing[call]
        return self.replies.get(request_id)

    def _warehouse(self, warehouse_id: str) -> None:
        active = self.warehouses.get(warehouse_id)
        if active is None:
            raise errors.InvalidArgument(
                [FieldViolation("warehouse", "no such warehouse")], reason="UNKNOWN_WAREHOUSE"
            )
        if not active:
            raise errors.FailedPrecondition("the warehouse is archived", reason="WAREHOUSE_ARCHIVED")

    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        self._enter("warehouse_active", "")
        return self.warehouses.get(warehouse_id)

    async def reserve(
        self,
        request_id: str,
        reference: str,
        warehouse_id: str,
        lines: Sequence[tuple[str, int]],
        ttl: timedelta,
    ) -> str:
        if (replay := self._enter("reserve", request_id)) is not None:
            return str(replay)
        self._warehouse(warehouse_id)
        free = {
            sku: self.on_hand.get((warehouse_id, sku), 0) - self.held(warehouse_id, sku) for sku, _ in lines
        }
        short = [
            PreconditionViolation(
                "STOCK",
                f"warehouses/{warehouse_id}/stockLevels/{sku}",
                f"requested {q}, available {free[sku]}",
            )
            for sku, q in lines
            if free[sku] < q
        ]
        if short:
            raise errors.FailedPrecondition("not enough stock", short, reason="INSUFFICIENT_STOCK")
        reservation_id = f"r-{len(self.holds) + 1}"
        self.holds[reservation_id] = Hold(warehouse_id, tuple(lines), self.clock() + ttl)
        self.replies[request_id] = reservation_id
        return reservation_id

    def _active(self, reservation_id: str) -> Hold:
        hold = self.holds[reservation_id]
        if hold.state != "active" or hold.expire_at <= self.clock():
            raise errors.FailedPrecondition("the reservation is not active", reason="RESERVATION_NOT_ACTIVE")
        return hold

    async def extend(self, request_id: str, reservation_id: str, expire_at: datetime) -> None:
        if self._enter("extend", request_id) is None:
            self._active(reservation_id).expire_at = expire_at
            self.replies[request_id] = "done"

    async def release(self, request_id: str, reservation_id: str) -> None:
        if self._enter("release", request_id) is None:
            hold = self.holds[reservation_id]
            if hold.state == "committed":
                raise errors.FailedPrecondition(
                    "the reservation was committed", reason="RESERVATION_NOT_ACTIVE"
                )
            hold.state = "released"
            self.replies[request_id] = "done"

    async def commit(self, request_id: str, reservation_id: str, shipped_at: datetime | None) -> None:
        if self._enter("commit", request_id) is None:
            hold = self._active(reservation_id)
            hold.state = "committed"
            for sku, q in hold.lines:
                self.on_hand[hold.warehouse_id, sku] -= q
            self.replies[request_id] = "done"

    async def return_stock(
        self, request_id: str, reference: str, warehouse_id: str, lines: Sequence[tuple[str, int]], note: str
    ) -> list[str]:
        if (replay := self._enter("return_stock", request_id)) is not None:
            return list(replay)
        self._warehouse(warehouse_id)
        for sku, q in lines:
            self.on_hand[warehouse_id, sku] = self.on_hand.get((warehouse_id, sku), 0) + q
        self.returned.append((reference, warehouse_id, tuple(lines)))
        movements = [f"movements/m-{len(self.returned)}-{i}" for i in range(len(lines))]
        self.replies[request_id] = movements
        return movements
