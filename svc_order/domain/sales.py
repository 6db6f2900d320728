"""Sales sync: what each sale of a channel's batch came to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class SaleOutcome(StrEnum):
    BOOKED = "booked"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Rejection(StrEnum):
    INVALID_SALE = "invalid_sale"
    UNKNOWN_SKU = "unknown_sku"
    ARCHIVED_SKU = "archived_sku"
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_WAREHOUSE = "unknown_warehouse"
    WAREHOUSE_ARCHIVED = "warehouse_archived"
    MIXED_CURRENCIES = "mixed_currencies"


@dataclass(frozen=True)
class LineProblem:
    line_index: int
    sku: str
    reason: Rejection
    description: str


@dataclass(frozen=True)
class SaleResult:
    external_id: str
    outcome: SaleOutcome
    order_id: str = ""
    rejection: Rejection | None = None
    message: str = ""
    problems: tuple[LineProblem, ...] = ()


class SaleRejected(Exception):
    """One sale cannot be booked; the batch goes on."""

    def __init__(self, reason: Rejection, message: str, problems: Sequence[LineProblem] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.problems = tuple(problems)
