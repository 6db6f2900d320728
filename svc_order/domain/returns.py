"""Returns: goods coming back from a shipped order, and their booking state
at svc_stock (PENDING until svc_stock has booked them in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from svc_order.domain.money import Money


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    UNWANTED = "unwanted"
    UNDELIVERABLE = "undeliverable"
    OTHER = "other"


class ReturnState(StrEnum):
    PENDING = "pending"
    BOOKED = "booked"


@dataclass(frozen=True)
class OrderReturn:
    id: str
    order_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    reason: ReturnReason
    note: str
    warehouse_id: str
    total: Money
    state: ReturnState
    stock_movements: tuple[str, ...]
    creator_id: str
    returned_at: datetime
    booked_at: datetime | None


@dataclass(frozen=True)
class PendingReturn:
    """What booking a PENDING return in svc_stock needs."""

    tenant_id: str
    id: str
    order_id: str
    lines: tuple[tuple[str, int], ...]
    warehouse_id: str
    note: str


def return_name(order_id: str, return_id: str) -> str:
    return f"orders/{order_id}/returns/{return_id}"
