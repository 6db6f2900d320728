"""What callers ask svc_stock to do, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from svc_stock.domain import Address, AdjustmentReason, Line, MovementType, ReservationState, WarehouseStatus


@dataclass(frozen=True)
class CreateWarehouse:
    code: str
    display_name: str
    address: Address


@dataclass(frozen=True)
class UpdateWarehouse:
    warehouse_id: str
    etag: str
    display_name: str | None = None
    address: Address | None = None


@dataclass(frozen=True)
class SetArchived:
    warehouse_id: str
    etag: str
    archived: bool


@dataclass(frozen=True)
class ListWarehouses:
    page_size: int
    page_token: str
    status: WarehouseStatus | None
    code: str


@dataclass(frozen=True)
class SetReorderPolicy:
    warehouse_id: str
    sku: str
    reorder_point: int
    reorder_quantity: int
    etag: str


@dataclass(frozen=True)
class StockLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Receive:
    warehouse_id: str
    lines: tuple[StockLine, ...]
    reference: str = ""
    note: str = ""


@dataclass(frozen=True)
class AdjustmentLine:
    sku: str
    quantity_delta: int
    reason: AdjustmentReason | None
    note: str = ""


@dataclass(frozen=True)
class Adjust:
    warehouse_id: str
    lines: tuple[AdjustmentLine, ...]
    reference: str = ""


@dataclass(frozen=True)
class CountLine:
    sku: str
    counted: int


@dataclass(frozen=True)
class Count:
    warehouse_id: str
    lines: tuple[CountLine, ...]
    reference: str = ""
    note: str = ""


@dataclass(frozen=True)
class Transfer:
    source_id: str
    destination_id: str
    lines: tuple[StockLine, ...]
    reference: str = ""
    note: str = ""


@dataclass(frozen=True)
class Return:
    warehouse_id: str
    lines: tuple[StockLine, ...]
    reference: str
    note: str = ""


@dataclass(frozen=True)
class ListLevels:
    warehouse_id: str | None  # None: every warehouse
    skus: tuple[str, ...]
    page_size: int
    page_token: str
    low_only: bool = False


@dataclass(frozen=True)
class ListMovements:
    page_size: int
    page_token: str
    warehouse_id: str | None = None
    sku: str = ""
    types: tuple[MovementType, ...] = ()
    reference: str = ""
    reservation_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    after_sequence: int = 0
    newest_first: bool = False


@dataclass(frozen=True)
class SummarizeDemand:
    warehouse_id: str
    start: datetime
    end: datetime | None
    skus: tuple[str, ...]
    page_size: int
    page_token: str


@dataclass(frozen=True)
class Expiry:
    """An absolute expiry or a hold from now (resolved by the use case's clock)."""

    at: datetime | None = None
    ttl: timedelta | None = None

    def resolve(self, now: datetime, default: timedelta) -> datetime:
        if self.at is not None:
            return self.at
        return now + (self.ttl if self.ttl is not None else default)


@dataclass(frozen=True)
class Reserve:
    reference: str
    lines: tuple[Line, ...]
    expiry: Expiry


@dataclass(frozen=True)
class Extend:
    reservation_id: str
    expiry: Expiry
    etag: str


@dataclass(frozen=True)
class Release:
    reservation_id: str
    etag: str


@dataclass(frozen=True)
class Commit:
    reservation_id: str
    ship_time: datetime | None
    etag: str


@dataclass(frozen=True)
class ListReservations:
    page_size: int
    page_token: str
    state: ReservationState | None
    reference: str
    warehouse_id: str | None
    sku: str
