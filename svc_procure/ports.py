"""svc_procure's repositories and its unit of work, abstract: the SQL store
(svc_procure.store) and the in-memory fakes of the fast specifications both
subclass them. Lists return up to `limit` rows past a cursor, in the order
their docstrings name; the use case pages them (kit.paging.page_of)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kit.uow import UnitOfWork
from svc_procure.domain.orders import PurchaseOrder, Receipt
from svc_procure.domain.suppliers import Supplier, SupplierItem


class Suppliers(abc.ABC):
    @abc.abstractmethod
    async def add(self, supplier: Supplier) -> None: ...

    @abc.abstractmethod
    async def get(self, tenant_id: str, supplier_id: str) -> Supplier | None: ...

    @abc.abstractmethod
    async def save(self, supplier: Supplier, expected_version: int) -> bool:
        """Write `supplier` if the stored one is still at `expected_version`."""

    @abc.abstractmethod
    async def active(self, tenant_id: str) -> dict[str, Supplier]:
        """The tenant's active suppliers by id."""

    @abc.abstractmethod
    async def list(self, tenant_id: str, status: str, after: tuple[str, str] | None) -> list[Supplier]:
        """By (display_name, id) after the cursor; all of them: a tenant has
        tens or hundreds, and the free-text filter runs on them in Python."""


class SupplierItems(abc.ABC):
    @abc.abstractmethod
    async def add(self, item: SupplierItem) -> bool:
        """False when the supplier already has an item of this SKU or supplier SKU."""

    @abc.abstractmethod
    async def get(self, tenant_id: str, supplier_id: str, item_id: str) -> SupplierItem | None: ...

    @abc.abstractmethod
    async def save(self, item: SupplierItem, expected_version: int) -> bool:
        """Write `item` if the stored one is still at `expected_version`."""

    @abc.abstractmethod
    async def supplier_sku_taken(self, item: SupplierItem) -> bool:
        """Another item of the same supplier already uses item.supplier_sku."""

    @abc.abstractmethod
    async def active(
        self, tenant_id: str, skus: Sequence[str], supplier_id: str | None = None
    ) -> list[SupplierItem]:
        """Active items of these SKUs (of one supplier, if given)."""

    @abc.abstractmethod
    async def list(
        self,
        tenant_id: str,
        supplier_id: str,
        sku: str,
        status: str,
        after: tuple[str, str, str] | None,
        limit: int,
    ) -> list[SupplierItem]:
        """By (supplier_id, sku, id) after the cursor; empty filters mean any."""


@dataclass(frozen=True)
class OrderFilter:
    """Empty values mean any; [start, end) bounds the creation time."""

    states: tuple[str, ...] = ()
    supplier_id: str = ""
    warehouse_id: str = ""
    sku: str = ""
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Coming:
    """What is still to arrive of one SKU into a warehouse, as quantity_ordered
    - quantity_received summed over the lines of its orders: `on_order` over
    SUBMITTED and PARTIALLY_RECEIVED orders, `draft` over DRAFT ones."""

    on_order: int = 0
    draft: int = 0


@dataclass(frozen=True)
class ReceiptFilter:
    """Empty values mean any; [start, end) bounds the receipt time."""

    order_id: str = ""
    warehouse_id: str = ""
    state: str = ""
    start: datetime | None = None
    end: datetime | None = None


class PurchaseOrders(abc.ABC):
    @abc.abstractmethod
    async def add(self, order: PurchaseOrder) -> None: ...

    @abc.abstractmethod
    async def get(self, tenant_id: str, order_id: str, *, lock: bool = False) -> PurchaseOrder | None:
        """`lock`: hold the order until the unit ends, so concurrent changes
        of one order (two receipts at the same dock) queue instead of one
        failing on the version check."""

    @abc.abstractmethod
    async def save(self, order: PurchaseOrder, expected_version: int) -> bool:
        """Write `order` if the stored one is still at `expected_version`."""

    @abc.abstractmethod
    async def coming(self, tenant_id: str, warehouse_id: str, skus: Sequence[str]) -> dict[str, Coming]:
        """What is coming of these SKUs (a page, up to 1000) into a warehouse;
        a SKU with nothing coming is left out. Costs the lines of those SKUs
        only, never every order of the warehouse."""

    @abc.abstractmethod
    async def list(
        self, tenant_id: str, where: OrderFilter, before: tuple[datetime, str] | None, limit: int
    ) -> list[PurchaseOrder]:
        """Newest first: (created_at, id) below the cursor."""


class Receipts(abc.ABC):
    @abc.abstractmethod
    async def add(self, receipt: Receipt) -> None: ...

    @abc.abstractmethod
    async def get(self, tenant_id: str, order_id: str, receipt_id: str) -> Receipt | None: ...

    @abc.abstractmethod
    async def pending(self, limit: int) -> list[Receipt]:
        """PENDING receipts of every tenant, oldest first."""

    @abc.abstractmethod
    async def mark_booked(self, receipt: Receipt, movements: Sequence[str], booked_at: datetime) -> bool:
        """PENDING -> BOOKED; False if it was booked already (by a concurrent attempt)."""

    @abc.abstractmethod
    async def list(
        self, tenant_id: str, where: ReceiptFilter, before: tuple[datetime, str] | None, limit: int
    ) -> list[Receipt]:
        """Newest first: (received_at, id) below the cursor."""


class ProcureUnit(UnitOfWork):
    suppliers: Suppliers
    items: SupplierItems
    orders: PurchaseOrders
    receipts: Receipts
