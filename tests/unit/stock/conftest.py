"""svc_stock's use cases on in-memory storage, with a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from clients.catalog import Lookup, Money, Variant
from kit.identity import Principal, Role
from kit.memory import Memory
from svc_stock import commands
from svc_stock.domain import Address, Line, Outcome, Provenance, ReservationOutcome
from svc_stock.usecases.granting import Granting
from svc_stock.usecases.levels import Levels
from svc_stock.usecases.movements import Movements
from svc_stock.usecases.reservations import Reservations
from svc_stock.usecases.stock import Stock
from svc_stock.usecases.warehouses import Warehouses
from tests.fakes.stock import StockState, units
from tests.fakes.stock_batches import MemoryReservationBatches

TENANT = "tenant-1"
MANAGER = Principal("manager-1", TENANT, frozenset({Role.MANAGER}), "token-m")
CLERK = Principal("clerk-1", TENANT, frozenset({Role.CLERK}), "token-c")
SWEEPER = Provenance("", "spiffe://stockmesh.test/ns/stockmesh/sa/svc-stock", "", "")
CATALOG = frozenset({"A", "B", "C"})


class Catalog:
    """The catalog: knows the SKUs in CATALOG (a variant each, at no price)."""

    async def variants(self, skus: Sequence[str]) -> Lookup:
        wanted = list(dict.fromkeys(skus))
        return Lookup(
            {s: Variant(s, s, Money("EUR", 0, 0), archived=False) for s in wanted if s in CATALOG},
            tuple(s for s in wanted if s not in CATALOG),
        )


@dataclass
class Clock:
    now: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def new_id() -> str:
    return str(uuid.uuid4())


def origin(who: Principal = MANAGER, request_id: str = "") -> Provenance:
    return Provenance(who.user_id, "caller", request_id or new_id(), "")


@dataclass
class Shop:
    """Every svc_stock use case on one in-memory state."""

    clock: Clock = field(default_factory=Clock)
    memory: Memory[StockState] = field(default_factory=lambda: Memory(StockState()))

    def __post_init__(self) -> None:
        stock_units = units(self.clock, self.memory)
        self.warehouses = Warehouses(stock_units)
        self.levels = Levels(stock_units, Catalog())
        self.movements = Movements(stock_units)
        self.reservations = Reservations(stock_units, system=SWEEPER)
        self.stock = Stock(stock_units, Catalog(), free_lapsed=self.reservations.expire_lapsed_on)
        self.granting = Granting(stock_units, MemoryReservationBatches(self.memory), system=SWEEPER)

    async def warehouse(self, code: str = "") -> str:
        cmd = commands.CreateWarehouse(code or f"W{uuid.uuid4().hex[:6].upper()}", "Main", Address())
        return (await self.warehouses.create(MANAGER, new_id(), cmd)).id

    async def receive(self, warehouse_id: str, sku: str, quantity: int) -> Outcome:
        cmd = commands.Receive(warehouse_id, (commands.StockLine(sku, quantity),))
        return await self.stock.receive(MANAGER, origin(), cmd)

    async def reserve(
        self, *lines: tuple[str, str, int], ttl: float = 900, request_id: str = ""
    ) -> ReservationOutcome:
        cmd = commands.Reserve(
            "orders/1", tuple(Line(*line) for line in lines), commands.Expiry(ttl=timedelta(seconds=ttl))
        )
        return await self.granting.reserve(CLERK, origin(CLERK, request_id), cmd)

    async def available(self, warehouse_id: str, sku: str) -> int:
        return (await self.levels.get_level(MANAGER, warehouse_id, sku)).available


@pytest.fixture
def shop() -> Shop:
    return Shop()
