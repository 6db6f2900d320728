"""What callers ask svc_order to do, as plain values (no protos)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kit.errors import FieldViolation
from svc_order.domain import Money, OrderStatus, ReturnReason, SalesChannel


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Money | None


@dataclass(frozen=True)
class CreateOrder:
    channel: SalesChannel | None
    external_id: str
    customer: str
    warehouse_id: str
    lines: tuple[LineInput, ...]
    hold: timedelta | None
    note: str
    # Fields the transport could not read, refused together with what the
    # use case finds wrong.
    unreadable: tuple[FieldViolation, ...] = ()


@dataclass(frozen=True)
class Sale:
    external_id: str
    warehouse_id: str
    lines: tuple[LineInput, ...]
    sold_at: datetime | None
    customer: str
    note: str


@dataclass(frozen=True)
class ImportSales:
    channel: SalesChannel | None
    sales: tuple[Sale, ...]
    # Fields the transport could not read, refused together with what the
    # use case finds wrong.
    unreadable: tuple[FieldViolation, ...] = ()


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str
    etag: str


@dataclass(frozen=True)
class ShipOrder:
    order_id: str
    carrier: str
    tracking_number: str
    etag: str


@dataclass(frozen=True)
class ReturnOrder:
    order_id: str
    lines: tuple[tuple[str, int], ...]
    reason: ReturnReason | None
    note: str
    warehouse_id: str  # "" means the order's warehouse
    etag: str
    # Fields the transport could not read, refused together with what the
    # use case finds wrong.
    unreadable: tuple[FieldViolation, ...] = ()


@dataclass(frozen=True)
class ListOrders:
    page_size: int
    page_token: str
    statuses: tuple[OrderStatus, ...]
    channel: SalesChannel | None
    customer: str
    warehouse_id: str
    external_id: str
    sku: str
    start: datetime | None
    end: datetime | None
