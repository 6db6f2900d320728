"""What svc_order's use cases need, as abstractions: the orders and returns
repositories and the unit of work that holds them (implemented on SQL by
svc_order.store and in memory by the fakes of the fast specifications), and
the warehouse question asked of svc_stock. The catalog and stock ports stand
in svc_order.catalog and svc_order.stock."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kit.uow import UnitOfWork
from svc_order.domain import Order, OrderReturn, OrderStatus, PendingReturn, SalesChannel


@dataclass(frozen=True)
class OrderFilter:
    """What a list of orders is narrowed to; empty values narrow nothing.
    `statuses` compares what callers see: a lapsed RESERVED order is EXPIRED."""

    statuses: tuple[OrderStatus, ...] = ()
    channel: SalesChannel | None = None
    customer: str = ""
    warehouse_id: str = ""
    external_id: str = ""
    sku: str = ""
    start: datetime | None = None
    end: datetime | None = None


class Orders(abc.ABC):
    @abc.abstractmethod
    async def get(self, tenant_id: str, order_id: str, *, lock: bool = False) -> Order | None:
        """The order with its lines and returns; `lock` holds it until the unit ends."""

    @abc.abstractmethod
    async def by_external_id(
        self, tenant_id: str, channel: SalesChannel, external_id: str
    ) -> Order | None: ...

    @abc.abstractmethod
    async def next_number(self, tenant_id: str) -> int:
        """The tenant's next order number, held until the unit ends, so numbers
        increase in commit order."""

    @abc.abstractmethod
    async def add(self, order: Order) -> None:
        """Store a new order and its lines (the caller checked its external id)."""

    @abc.abstractmethod
    async def save(self, order: Order, expected_version: int) -> bool:
        """Write the order's state and its lines' quantities if it is still at
        `expected_version`; False if someone saved another version first."""

    @abc.abstractmethod
    async def remove(self, tenant_id: str, order_id: str) -> None:
        """Delete an order that never took effect (its hold was not confirmed)."""

    @abc.abstractmethod
    async def find(
        self,
        tenant_id: str,
        narrowed: OrderFilter,
        before: tuple[datetime, str] | None,
        limit: int,
        now: datetime,
    ) -> list[Order]:
        """Up to `limit` orders, newest order_time first (then id), after the
        cursor `before` (order_time, id)."""

    @abc.abstractmethod
    async def expire_lapsed(self, now: datetime) -> int:
        """Mark RESERVED orders of every tenant past their hold EXPIRED; how many."""


class Returns(abc.ABC):
    @abc.abstractmethod
    async def add(self, tenant_id: str, booked: OrderReturn) -> None: ...

    @abc.abstractmethod
    async def mark_booked(
        self, tenant_id: str, return_id: str, movements: Sequence[str], at: datetime
    ) -> None:
        """PENDING -> BOOKED; a return booked already (a concurrent attempt) stays as it is."""

    @abc.abstractmethod
    async def pending(self, limit: int) -> list[PendingReturn]:
        """PENDING returns of every tenant, oldest first."""


class OrderUnit(UnitOfWork):
    orders: Orders
    returns: Returns


class Warehouses(Protocol):
    """What svc_order asks svc_stock about a warehouse outside a reservation:
    whether a refused request's warehouse exists too, so the refusal names
    every bad field at once."""

    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        """True if active, False if archived, None if the caller's tenant has
        no such warehouse; kit.errors.Unavailable if svc_stock cannot answer."""
        ...
