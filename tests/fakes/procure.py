"""svc_procure in memory: its repositories over plain dicts, its unit of work,
and stand-ins for the catalog and stock ports, for fast specifications."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from clients.catalog import Lookup, Money, Variant
from clients.stock import Demand, LowLevel
from kit import context, errors
from kit.memory import Memory, MemoryUnitOfWork, State
from kit.uow import Units
from svc_procure import ports
from svc_procure.domain.orders import OPEN, PurchaseOrder, PurchaseOrderState, Receipt, ReceiptState
from svc_procure.domain.suppliers import Status, Supplier, SupplierItem
from svc_procure.ports import Coming, OrderFilter, ProcureUnit, ReceiptFilter

Key = tuple[str, str]  # (tenant_id, id)


@dataclass
class ProcureState(State):
    suppliers: dict[Key, Supplier] = field(default_factory=dict)
    items: dict[Key, SupplierItem] = field(default_factory=dict)
    orders: dict[Key, PurchaseOrder] = field(default_factory=dict)
    receipts: dict[Key, Receipt] = field(default_factory=dict)


class MemorySuppliers(ports.Suppliers):
    def __init__(self, rows: dict[Key, Supplier]) -> None:
        self.rows = rows

    async def add(self, supplier: Supplier) -> None:
        assert (supplier.tenant_id, supplier.id) not in self.rows
        self.rows[supplier.tenant_id, supplier.id] = supplier

    async def get(self, tenant_id: str, supplier_id: str) -> Supplier | None:
        return self.rows.get((tenant_id, supplier_id))

    async def save(self, supplier: Supplier, expected_version: int) -> bool:
        stored = self.rows.get((supplier.tenant_id, supplier.id))
        if stored is None or stored.version != expected_version:
            return False
        self.rows[supplier.tenant_id, supplier.id] = supplier
        return True

    async def active(self, tenant_id: str) -> dict[str, Supplier]:
        return {s.id: s for (t, _), s in self.rows.items() if t == tenant_id and s.status is Status.ACTIVE}

    async def list(self, tenant_id: str, status: str, after: tuple[str, str] | None) -> list[Supplier]:
        found = [
            s
            for (t, _), s in self.rows.items()
            if t == tenant_id
            and (not status or s.status == status)
            and (after is None or (s.display_name, s.id) > after)
        ]
        return sorted(found, key=lambda s: (s.display_name, s.id))


class MemorySupplierItems(ports.SupplierItems):
    def __init__(self, rows: dict[Key, SupplierItem]) -> None:
        self.rows = rows

    def _of_supplier(self, item: SupplierItem) -> list[SupplierItem]:
        return [
            i
            for (t, _), i in self.rows.items()
            if t == item.tenant_id and i.supplier_id == item.supplier_id and i.id != item.id
        ]

    async def add(self, item: SupplierItem) -> bool:
        if any(i.sku == item.sku or i.supplier_sku == item.supplier_sku for i in self._of_supplier(item)):
            return False
        self.rows[item.tenant_id, item.id] = item
        return True

    async def get(self, tenant_id: str, supplier_id: str, item_id: str) -> SupplierItem | None:
        found = self.rows.get((tenant_id, item_id))
        return found if found is not None and found.supplier_id == supplier_id else None

    async def save(self, item: SupplierItem, expected_version: int) -> bool:
        stored = self.rows.get((item.tenant_id, item.id))
        if stored is None or stored.version != expected_version:
            return False
        self.rows[item.tenant_id, item.id] = item
        return True

    async def supplier_sku_taken(self, item: SupplierItem) -> bool:
        return any(i.supplier_sku == item.supplier_sku for i in self._of_supplier(item))

    async def active(
        self, tenant_id: str, skus: Sequence[str], supplier_id: str | None = None
    ) -> list[SupplierItem]:
        wanted = set(skus)  # a page of replenishment asks for 1000
        return [
            i
            for (t, _), i in self.rows.items()
            if t == tenant_id
            and i.sku in wanted
            and i.status is Status.ACTIVE
            and (supplier_id is None or i.supplier_id == supplier_id)
        ]

    async def list(
        self,
        tenant_id: str,
        supplier_id: str,
        sku: str,
        status: str,
        after: tuple[str, str, str] | None,
        limit: int,
    ) -> list[SupplierItem]:
        found = [
            i
            for (t, _), i in self.rows.items()
            if t == tenant_id
            and (not supplier_id or i.supplier_id == supplier_id)
            and (not sku or i.sku == sku)
            and (not status or i.status == status)
            and (after is None or (i.supplier_id, i.sku, i.id) > after)
        ]
        return sorted(found, key=lambda i: (i.supplier_id, i.sku, i.id))[:limit]


class MemoryPurchaseOrders(ports.PurchaseOrders):
    def __init__(self, rows: dict[Key, PurchaseOrder]) -> None:
        self.rows = rows

    async def add(self, order: PurchaseOrder) -> None:
        assert (order.tenant_id, order.id) not in self.rows
        self.rows[order.tenant_id, order.id] = order

    async def get(self, tenant_id: str, order_id: str, *, lock: bool = False) -> PurchaseOrder | None:
        return self.rows.get((tenant_id, order_id))

    async def save(self, order: PurchaseOrder, expected_version: int) -> bool:
        stored = self.rows.get((order.tenant_id, order.id))
        if stored is None or stored.version != expected_version:
            return False
        self.rows[order.tenant_id, order.id] = order
        return True

    async def coming(self, tenant_id: str, warehouse_id: str, skus: Sequence[str]) -> dict[str, Coming]:
        wanted, incoming = set(skus), (PurchaseOrderState.DRAFT, *OPEN)
        out: dict[str, Coming] = {}
        for (t, _), o in self.rows.items():
            if t != tenant_id or o.warehouse_id != warehouse_id or o.state not in incoming:
                continue
            for line in (x for x in o.lines if x.sku in wanted):
                due, was = line.quantity_ordered - line.quantity_received, out.get(line.sku, Coming())
                if o.state is PurchaseOrderState.DRAFT:
                    out[line.sku] = Coming(was.on_order, was.draft + due)
                else:
                    out[line.sku] = Coming(was.on_order + due, was.draft)
        return out

    async def list(
        self, tenant_id: str, where: OrderFilter, before: tuple[datetime, str] | None, limit: int
    ) -> list[PurchaseOrder]:
        found = [
            o
            for (t, _), o in self.rows.items()
            if t == tenant_id
            and (not where.states or o.state in where.states)
            and (not where.supplier_id or o.supplier_id == where.supplier_id)
            and (not where.warehouse_id or o.warehouse_id == where.warehouse_id)
            and (not where.sku or any(line.sku == where.sku for line in o.lines))
            and (where.start is None or o.created_at >= where.start)
            and (where.end is None or o.created_at < where.end)
            and (before is None or (o.created_at, o.id) < before)
        ]
        return sorted(found, key=lambda o: (o.created_at, o.id), reverse=True)[:limit]


class MemoryReceipts(ports.Receipts):
    def __init__(self, rows: dict[Key, Receipt]) -> None:
        self.rows = rows

    async def add(self, receipt: Receipt) -> None:
        assert (receipt.tenant_id, receipt.id) not in self.rows
        self.rows[receipt.tenant_id, receipt.id] = receipt

    async def get(self, tenant_id: str, order_id: str, receipt_id: str) -> Receipt | None:
        found = self.rows.get((tenant_id, receipt_id))
        return found if found is not None and found.purchase_order_id == order_id else None

    async def pending(self, limit: int) -> list[Receipt]:
        found = [r for r in self.rows.values() if r.state is ReceiptState.PENDING]
        return sorted(found, key=lambda r: r.received_at)[:limit]

    async def mark_booked(self, receipt: Receipt, movements: Sequence[str], booked_at: datetime) -> bool:
        stored = self.rows.get((receipt.tenant_id, receipt.id))
        if stored is None or stored.state is not ReceiptState.PENDING:
            return False
        self.rows[receipt.tenant_id, receipt.id] = replace(
            stored, state=ReceiptState.BOOKED, stock_movements=tuple(movements), booked_at=booked_at
        )
        return True

    async def list(
        self, tenant_id: str, where: ReceiptFilter, before: tuple[datetime, str] | None, limit: int
    ) -> list[Receipt]:
        found = [
            r
            for (t, _), r in self.rows.items()
            if t == tenant_id
            and (not where.order_id or r.purchase_order_id == where.order_id)
            and (not where.warehouse_id or r.warehouse_id == where.warehouse_id)
            and (not where.state or r.state == where.state)
            and (where.start is None or r.received_at >= where.start)
            and (where.end is None or r.received_at < where.end)
            and (before is None or (r.received_at, r.id) < before)
        ]
        return sorted(found, key=lambda r: (r.received_at, r.id), reverse=True)[:limit]


class MemoryProcureUnit(MemoryUnitOfWork[ProcureState], ProcureUnit):
    def bind(self, state: ProcureState) -> None:
        self.suppliers = MemorySuppliers(state.suppliers)
        self.items = MemorySupplierItems(state.items)
        self.orders = MemoryPurchaseOrders(state.orders)
        self.receipts = MemoryReceipts(state.receipts)


def units(clock: Callable[[], datetime], memory: Memory[ProcureState] | None = None) -> Units[ProcureUnit]:
    """Units over `memory` (a new, empty one if not given)."""
    kept = memory if memory is not None else Memory(ProcureState())

    def opener(*, read_only: bool) -> ProcureUnit:
        return MemoryProcureUnit(kept, read_only=read_only)

    return Units(opener, clock)


class Catalog:
    """The catalog: knows the SKUs it was given (a variant each, at no price)."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known = set(known)
        self.asked: list[list[str]] = []

    async def variants(self, skus: Sequence[str]) -> Lookup:
        self.asked.append(list(skus))
        wanted = list(dict.fromkeys(skus))
        return Lookup(
            {
                sku: Variant(sku, sku, Money("EUR", 0, 0), archived=False)
                for sku in wanted
                if sku in self.known
            },
            tuple(sku for sku in wanted if sku not in self.known),
        )


@dataclass
class Stock:
    """The stock ledger: warehouses (id -> active), low levels (served in
    pages of `page_size`, as given) and demand to report, and receipts booked
    once per request id, unless unreachable. `asked` records the questions
    about levels and demand, to see what a caller reads and in what pieces."""

    warehouses: dict[str, bool] = field(default_factory=dict)
    low: dict[str, list[LowLevel]] = field(default_factory=dict)
    demands: dict[str, Demand] = field(default_factory=dict)
    page_size: int = 1000
    asked: list[tuple[str, list[str]]] = field(default_factory=list)
    booked: dict[str, list[str]] = field(default_factory=dict)
    on_hand: dict[tuple[str, str], int] = field(default_factory=dict)
    # The tenant of the system work each booking ran as ("" for a user's call).
    booked_as: dict[str, str] = field(default_factory=dict)
    reachable: bool = True

    def _reach(self) -> None:
        if not self.reachable:
            raise errors.Unavailable("svc_stock could not be reached", reason="STOCK_UNAVAILABLE")

    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        self._reach()
        return self.warehouses.get(warehouse_id)

    async def low_level_pages(self, warehouse_id: str) -> AsyncIterator[list[LowLevel]]:
        levels = self.low.get(warehouse_id, [])
        for first in range(0, max(len(levels), 1), self.page_size):  # nothing low: one empty page
            self._reach()
            page = levels[first : first + self.page_size]
            self.asked.append(("low", [lv.sku for lv in page]))
            yield page

    async def low_levels_of(self, warehouse_id: str, skus: Sequence[str]) -> list[LowLevel]:
        self._reach()
        self.asked.append(("low_of", list(skus)))
        return [lv for lv in self.low.get(warehouse_id, []) if lv.sku in skus]

    async def demand(self, warehouse_id: str, skus: Sequence[str], start: datetime) -> dict[str, Demand]:
        self._reach()
        self.asked.append(("demand", list(skus)))
        return {sku: self.demands[sku] for sku in skus if sku in self.demands}

    async def receive(
        self, request_id: str, warehouse_id: str, lines: Sequence[tuple[str, int]], reference: str
    ) -> list[str]:
        self._reach()
        if request_id not in self.booked:
            for sku, quantity in lines:
                self.on_hand[warehouse_id, sku] = self.on_hand.get((warehouse_id, sku), 0) + quantity
            self.booked[request_id] = [f"warehouses/{warehouse_id}/movements/{uuid.uuid4()}" for _ in lines]
            self.booked_as[request_id] = context.system_tenant.get()
        return list(self.booked[request_id])
