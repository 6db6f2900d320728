"""svc_procure's use cases on in-memory units and stand-ins for svc_catalog
and svc_stock: no database, no process, no network."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from kit.identity import Principal, Role
from kit.memory import Memory
from kit.uow import Units
from svc_procure import commands
from svc_procure.domain.orders import PurchaseOrder
from svc_procure.domain.suppliers import Supplier, SupplierItem
from svc_procure.names import order_etag
from svc_procure.ports import ProcureUnit
from svc_procure.usecases.booking import Booking
from svc_procure.usecases.drafts import ProposalDrafts
from svc_procure.usecases.orders import Orders
from svc_procure.usecases.receiving import Receiving
from svc_procure.usecases.replenishment import Replenishment
from svc_procure.usecases.supplier_items import SupplierItems
from svc_procure.usecases.suppliers import Suppliers
from tests.fakes.procure import Catalog, ProcureState, Stock, units

WAREHOUSE = "w1"
SKUS = ("A", "B", "C")


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def person(*roles: Role, tenant: str = "t1") -> Principal:
    return Principal(str(uuid.uuid4()), tenant, frozenset(roles), "token")


def rid() -> str:
    return str(uuid.uuid4())


@dataclass
class Procure:
    """svc_procure's use cases over one in-memory state, and its neighbours."""

    clock: Clock
    memory: Memory[ProcureState]
    units: Units[ProcureUnit]
    catalog: Catalog
    stock: Stock
    buyer: Principal
    manager: Principal
    clerk: Principal

    @property
    def state(self) -> ProcureState:
        return self.memory.state

    @property
    def suppliers(self) -> Suppliers:
        return Suppliers(self.units)

    @property
    def items(self) -> SupplierItems:
        return SupplierItems(self.units, self.catalog)

    @property
    def orders(self) -> Orders:
        return Orders(self.units, self.stock, self.catalog)

    @property
    def booking(self) -> Booking:
        return Booking(self.units, self.stock)

    @property
    def receiving(self) -> Receiving:
        return Receiving(self.units, self.booking)

    @property
    def drafts(self) -> ProposalDrafts:
        return ProposalDrafts(self.units, self.stock)

    @property
    def replenishment(self) -> Replenishment:
        return Replenishment(self.units, self.stock)

    async def supplier(self, *, lead_days: int = 7, currency: str = "EUR", name: str = "Acme") -> Supplier:
        cmd = commands.CreateSupplier(name, "", "", "", currency, lead_days, "")
        return await self.suppliers.create(self.buyer, rid(), cmd)

    async def item(
        self,
        supplier: Supplier,
        sku: str,
        *,
        cost: int = 1_500_000_000,
        moq: int = 1,
        pack: int = 1,
        lead_days: int | None = None,
        preferred: bool = False,
    ) -> SupplierItem:
        cmd = commands.CreateSupplierItem(
            supplier.id, sku, f"X-{sku}", supplier.currency_code, cost, lead_days, moq, pack, preferred
        )
        return await self.items.create(self.buyer, rid(), cmd)

    async def order(
        self, supplier: Supplier, lines: list[tuple[str, int]], *, submit: bool = True
    ) -> PurchaseOrder:
        new = tuple(commands.NewLine(sku, qty) for sku, qty in lines)
        cmd = commands.CreatePurchaseOrder(supplier.id, WAREHOUSE, new, "", "")
        created = await self.orders.create(self.buyer, rid(), cmd)
        if not submit:
            return created
        return await self.orders.submit(
            self.buyer, rid(), commands.Transition(created.id, order_etag(created))
        )


@pytest.fixture
def procure() -> Procure:
    clock = Clock()
    memory = Memory(ProcureState())
    return Procure(
        clock,
        memory,
        units(clock, memory),
        Catalog(SKUS),
        Stock(warehouses={WAREHOUSE: True, "archived": False}),
        person(Role.BUYER),
        person(Role.MANAGER),
        person(Role.CLERK),
    )
