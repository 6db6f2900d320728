"""One shop for every specification: svc_order's use cases on the in-memory
store, a catalog of a few variants and svc_stock with one stocked warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from kit.identity import Principal, Role
from kit.memory import Memory
from svc_order import commands
from svc_order.domain import CatalogVariant, Money, Order, SalesChannel
from svc_order.usecases.orders import Orders
from svc_order.usecases.placing import Placement
from svc_order.usecases.returns import Returns
from svc_order.usecases.sales import Sales
from tests.fakes.order import Clock, FakeCatalog, FakeStock, OrderState, units

WHO = Principal("u-1", "t-1", frozenset({Role.MANAGER}), "tok")
STRANGER = Principal("u-9", "t-9", frozenset({Role.MANAGER}), "tok")
WAREHOUSE = "w-1"
LEASE = timedelta(seconds=30)


def eur(units: int, nanos: int = 0) -> Money:
    return Money("EUR", units, nanos)


@dataclass
class Shop:
    clock: Clock
    memory: Memory[OrderState]
    catalog: FakeCatalog
    stock: FakeStock
    placement: Placement
    orders: Orders
    returns: Returns
    sales: Sales

    def order_command(
        self, lines: list[tuple[str, int]], *, warehouse: str = WAREHOUSE, **fields: object
    ) -> commands.CreateOrder:
        values: dict[str, object] = {
            "channel": SalesChannel.WEB_SHOP,
            "external_id": "",
            "customer": "",
            "warehouse_id": warehouse,
            "lines": tuple(commands.LineInput(s, q, None) for s, q in lines),
            "hold": None,
            "note": "",
        }
        values.update(fields)
        return commands.CreateOrder(**values)  # type: ignore[arg-type]

    async def create(self, lines: list[tuple[str, int]], request_id: str = "req-1", **fields: Any) -> Order:
        return await self.orders.create(WHO, request_id, self.order_command(lines, **fields))

    async def ship(self, order: Order, request_id: str = "ship-1") -> Order:
        return await self.orders.ship(WHO, request_id, commands.ShipOrder(order.id, "DHL", "T-1", ""))

    def stored(self) -> list[Order]:
        return list(self.memory.state.orders.values())


@pytest.fixture
def shop() -> Shop:
    clock = Clock()
    memory = Memory(OrderState())
    order_units = units(clock, memory)
    catalog = FakeCatalog(
        [
            CatalogVariant("A", "Shoe, A", eur(5), archived=False),
            CatalogVariant("B", "Shoe, B", eur(2, 500_000_000), archived=False),
            CatalogVariant("OLD", "Shoe, old", eur(5), archived=True),
            CatalogVariant("USD", "Shoe, imported", Money("USD", 7, 0), archived=False),
        ]
    )
    stock = FakeStock(clock)
    for sku in ("A", "B", "OLD", "USD"):
        stock.stock(WAREHOUSE, sku, 10)
    placement = Placement(order_units, stock, lease=LEASE)
    orders = Orders(order_units, catalog, stock, stock, placement)
    return Shop(
        clock,
        memory,
        catalog,
        stock,
        placement,
        orders,
        Returns(order_units, stock, orders),
        Sales(order_units, catalog, placement),
    )
