"""What svc_stock's use cases need of storage, as abstractions: implemented
on SQL in `svc_stock.store` and in memory by the fakes of the fast
specifications. Every list returns up to `limit` rows in a fixed order."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kit.uow import UnitOfWork
from svc_stock.domain import (
    Decision,
    Level,
    Locked,
    Movement,
    MovementType,
    Reservation,
    ReservationState,
    Warehouse,
    WarehouseStatus,
)

Key = tuple[str, str]  # (warehouse_id, sku)


@dataclass(frozen=True)
class SkuRange:
    """The SKUs after `after` up to `last`, inclusive: a slice of a warehouse
    read in SKU order."""

    after: str
    last: str

    def __contains__(self, sku: object) -> bool:
        return isinstance(sku, str) and self.after < sku <= self.last


class Warehouses(abc.ABC):
    @abc.abstractmethod
    async def add(self, warehouse: Warehouse) -> None: ...

    @abc.abstractmethod
    async def get(self, tenant_id: str, warehouse_id: str) -> Warehouse | None: ...

    @abc.abstractmethod
    async def by_id(self, tenant_id: str, ids: Sequence[str]) -> dict[str, Warehouse]: ...

    @abc.abstractmethod
    async def code_taken(self, tenant_id: str, code: str) -> bool: ...

    @abc.abstractmethod
    async def find(
        self, tenant_id: str, *, after_code: str, limit: int, status: WarehouseStatus | None, code: str
    ) -> list[Warehouse]:
        """By code."""

    @abc.abstractmethod
    async def save(self, warehouse: Warehouse, expected_version: int) -> bool:
        """False, saving nothing, unless it is still at `expected_version`."""

    @abc.abstractmethod
    async def holds_anything(self, tenant_id: str, warehouse_id: str) -> bool:
        """True while a level of the warehouse has stock on hand or reserved."""


class Levels(abc.ABC):
    """Stock levels. A change of a level locks it until the unit ends; a
    unit changes levels in (warehouse_id, sku) order."""

    @abc.abstractmethod
    async def low_counts(self) -> dict[tuple[str, str], int]:
        """Every tenant's (tenant_id, warehouse_id) -> how many of its levels are low
        (available at or below the reorder point, with a reorder quantity set)."""

    @abc.abstractmethod
    async def by_key(self, tenant_id: str, keys: Sequence[Key]) -> dict[Key, Level]:
        """The levels that exist, each with its last movement's sequence."""

    @abc.abstractmethod
    async def find(
        self,
        tenant_id: str,
        *,
        warehouse_id: str | None,
        skus: Sequence[str],
        after: Key | None,
        limit: int,
        low_only: bool = False,
    ) -> list[Level]:
        """By (warehouse_id, sku), after `after`."""

    @abc.abstractmethod
    async def set_reorder_policy(
        self, tenant_id: str, key: Key, point: int, quantity: int, now: datetime
    ) -> None:
        """Creating the level (at zero) if there is none."""

    @abc.abstractmethod
    async def add_stock(self, tenant_id: str, key: Key, quantity: int, now: datetime) -> Level:
        """on_hand += quantity (> 0), creating the level on first receipt."""

    @abc.abstractmethod
    async def change(
        self, tenant_id: str, key: Key, *, on_hand_delta: int, reserved_delta: int, now: datetime
    ) -> Level | None:
        """Apply the deltas; None, changing nothing, when there is no level or
        it would then hold more reserved than on hand."""

    @abc.abstractmethod
    async def count(self, tenant_id: str, key: Key, counted: int, now: datetime) -> tuple[int, Level] | None:
        """on_hand set to `counted` (creating the level), with the count's
        time; the delta and the level, or None when below reserved."""

    @abc.abstractmethod
    async def quantities(
        self, tenant_id: str, warehouse_id: str, *, after: str, limit: int
    ) -> list[tuple[str, int, int]]:
        """(sku, on_hand, reserved) of the warehouse's next `limit` levels
        after the SKU `after`, by SKU."""


@dataclass(frozen=True)
class MovementQuery:
    warehouse_id: str | None = None
    sku: str = ""
    types: Sequence[MovementType] = ()
    reference: str = ""
    reservation_id: str = ""
    start: datetime | None = None  # created at or after
    end: datetime | None = None  # created before
    after_sequence: int = 0
    before_sequence: int | None = None
    newest_first: bool = False
    limit: int = 50


@dataclass(frozen=True)
class DemandSums:
    shipped: int
    returned: int
    shipments: int
    first_shipment_at: datetime | None
    last_shipment_at: datetime | None


class Ledger(abc.ABC):
    """The movements, numbered per tenant in commit order."""

    @abc.abstractmethod
    async def next_sequences(self, tenant_id: str, count: int) -> int:
        """The first of `count` sequences for the movements this unit appends.
        Locks the tenant's sequence until the unit ends: taken last."""

    @abc.abstractmethod
    async def last_sequence(self, tenant_id: str) -> int: ...

    @abc.abstractmethod
    async def append(self, tenant_id: str, movements: Sequence[Movement]) -> None: ...

    @abc.abstractmethod
    async def get(self, tenant_id: str, movement_id: str) -> Movement | None: ...

    @abc.abstractmethod
    async def by_id(self, tenant_id: str, ids: Sequence[str]) -> list[Movement]:
        """In the order of `ids`."""

    @abc.abstractmethod
    async def find(self, tenant_id: str, query: MovementQuery) -> list[Movement]:
        """By sequence (descending if `newest_first`)."""

    @abc.abstractmethod
    async def sums(
        self, tenant_id: str, warehouse_id: str | None, *, skus: SkuRange | None = None
    ) -> dict[Key, tuple[int, int]]:
        """Per level: (sum of quantity deltas, sum of reserved deltas); only
        of the SKUs in `skus` if given."""

    @abc.abstractmethod
    async def demand(
        self,
        tenant_id: str,
        warehouse_id: str,
        start: datetime,
        end: datetime,
        skus: Sequence[str],
        *,
        after: str = "",
        limit: int | None = None,
    ) -> dict[str, DemandSums]:
        """Per SKU, the shipments and returns effective in [start, end): of
        `skus` if given, else of the first `limit` SKUs after `after` (in
        SKU order) that had any."""


class Reservations(abc.ABC):
    @abc.abstractmethod
    async def get(self, tenant_id: str, reservation_id: str, *, lock: bool = False) -> Reservation | None: ...

    @abc.abstractmethod
    async def find(
        self,
        tenant_id: str,
        *,
        state: ReservationState | None,
        now: datetime,
        reference: str,
        warehouse_id: str | None,
        sku: str,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Reservation]:
        """Newest first, by (created_at, id) descending; `state` as seen at
        `now` (a lapsed hold is EXPIRED)."""

    @abc.abstractmethod
    async def save(self, reservation: Reservation, expected_version: int) -> bool: ...

    @abc.abstractmethod
    async def lapsed(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant, id) of ACTIVE reservations past their expiry, oldest first."""

    @abc.abstractmethod
    async def lapsed_on_levels(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> list[str]:
        """Ids of the lapsed, not yet swept reservations with a line on these levels."""

    @abc.abstractmethod
    async def lapsed_holds(self, tenant_id: str, keys: Sequence[Key], now: datetime) -> dict[Key, int]:
        """Per level, what lapsed, not yet swept reservations still hold."""

    @abc.abstractmethod
    async def held(
        self, tenant_id: str, warehouse_id: str | None, *, skus: SkuRange | None = None
    ) -> dict[Key, int]:
        """Per level, the lines of the reservations ACTIVE in the store; only
        of the SKUs in `skus` if given."""


class StockUnit(UnitOfWork):
    warehouses: Warehouses
    levels: Levels
    ledger: Ledger
    reservations: Reservations


class ReservationBatch(abc.ABC):
    """One transaction that grants a batch of one tenant's reservations:
    `claim_and_lock`, then the domain decides, then `write` the decision.
    Leaving the block without `write` (or with an error) keeps nothing,
    claims included."""

    @abc.abstractmethod
    async def claim_and_lock(
        self, claims: Sequence[Mapping[str, Any]], keys: Sequence[Key], now: datetime
    ) -> tuple[set[str], Locked]:
        """Claim these request ids (the rows `kit.uow.Once.row` makes), then
        lock and read what the decision needs (`Locked`): the levels at
        `keys`, the holds on them still ACTIVE past their expiry at `now`, and
        those holds' levels. Returns the request ids claimed now; the others
        took effect before. Nothing is locked if none was claimed."""

    @abc.abstractmethod
    async def write(self, decision: Decision, dropped: Sequence[str], now: datetime) -> None:
        """Persist `decision` and drop the claims of the `dropped` request ids
        (refused: a retry is decided afresh); committed when the block ends.
        The write may travel with the commit: read `first_sequence` after."""

    @abc.abstractmethod
    async def first_sequence(self) -> int:
        """Once the block has ended: the sequence of the written decision's
        first movement."""


class ReservationBatches(abc.ABC):
    @abc.abstractmethod
    def open(self, tenant_id: str) -> AbstractAsyncContextManager[ReservationBatch]: ...
