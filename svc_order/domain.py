"""The rules of sales orders: lines, prices, totals, states and returns.

Standard library only. Money is kept as google.type.Money keeps it (whole
units plus nanos, same sign) and summed as integer nanos, so nothing is ever
rounded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kit.errors import FailedPrecondition, PreconditionViolation, Violations
from kit.identity import Principal

NANOS = 1_000_000_000
MAX_LINES = 500
MAX_SALES = 500
DEFAULT_HOLD = timedelta(days=7)
MIN_HOLD = timedelta(minutes=1)
MAX_HOLD = timedelta(days=30)


class OrderStatus(StrEnum):
    RESERVED = "reserved"
    SHIPPED = "shipped"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SalesChannel(StrEnum):
    POS = "pos"
    WEB_SHOP = "web_shop"
    MARKETPLACE = "marketplace"
    PHONE = "phone"
    WHOLESALE = "wholesale"
    OTHER = "other"


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


RETURNABLE = (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_RETURNED)


@dataclass(frozen=True)
class Money:
    """An amount as google.type.Money holds it."""

    currency_code: str
    units: int
    nanos: int

    @property
    def total_nanos(self) -> int:
        return self.units * NANOS + self.nanos

    @classmethod
    def of_nanos(cls, currency_code: str, amount: int) -> Money:
        units, nanos = divmod(abs(amount), NANOS)
        sign = -1 if amount < 0 else 1
        return cls(currency_code, sign * units, sign * nanos)

    def times(self, quantity: int) -> Money:
        return Money.of_nanos(self.currency_code, self.total_nanos * quantity)

    @property
    def negative(self) -> bool:
        return self.total_nanos < 0


@dataclass(frozen=True)
class CatalogVariant:
    """What an order snapshots of a variant."""

    sku: str
    description: str
    list_price: Money
    archived: bool


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    description: str
    list_price: Money
    unit_price: Money
    shipped_quantity: int = 0
    returned_quantity: int = 0

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    shipped_at: datetime


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
class Order:
    id: str
    tenant_id: str
    number: int
    channel: SalesChannel
    external_id: str
    customer: str
    warehouse_id: str
    status: OrderStatus
    lines: tuple[Line, ...]
    currency_code: str
    reservation_id: str
    hold_expire_at: datetime
    shipment: Shipment | None
    returns: tuple[OrderReturn, ...]
    note: str
    order_time: datetime
    creator_id: str
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str
    version: int
    imported: bool = False  # booked by ImportSales

    @property
    def total(self) -> Money:
        return Money.of_nanos(self.currency_code, sum(line.total.total_nanos for line in self.lines))

    @property
    def returned_total(self) -> Money:
        return Money.of_nanos(self.currency_code, sum(r.total.total_nanos for r in self.returns))

    def status_at(self, now: datetime) -> OrderStatus:
        """A hold past its expiry reads EXPIRED even before the sweeper marks it."""
        if self.status is OrderStatus.RESERVED and now >= self.hold_expire_at:
            return OrderStatus.EXPIRED
        return self.status

    def as_seen(self, now: datetime) -> Order:
        status = self.status_at(now)
        if status is self.status:
            return self
        return dataclasses.replace(self, status=status, cancelled_at=self.hold_expire_at)


def order_name(order_id: str) -> str:
    return f"orders/{order_id}"


def return_name(order_id: str, return_id: str) -> str:
    return f"orders/{order_id}/returns/{return_id}"


def order_number(number: int) -> str:
    return f"SO-{number:06d}"


def check_lines(skus: Sequence[str], quantities: Sequence[int], prefix: str, violations: Violations) -> None:
    """1 to 500 lines, each SKU once, each quantity at least 1."""
    if not skus:
        violations.add(prefix, "at least one line is required")
    elif len(skus) > MAX_LINES:
        violations.add(prefix, f"at most {MAX_LINES} lines")
    seen: set[str] = set()
    for i, (sku, quantity) in enumerate(zip(skus, quantities, strict=True)):
        if not sku.strip():
            violations.add(f"{prefix}[{i}].sku", "required")
        elif sku in seen:
            violations.add(f"{prefix}[{i}].sku", "one line per SKU")
        seen.add(sku)
        if quantity < 1:
            violations.add(f"{prefix}[{i}].quantity", "must be at least 1")


MAX_REFERENCE = 200  # external ids and customer references
MAX_SHIPMENT_FIELD = 100
MAX_ID = 36  # svc_stock's ids are UUIDs


def check_length(value: str, limit: int, field: str, violations: Violations) -> None:
    if len(value) > limit:
        violations.add(field, f"at most {limit} characters")


def check_hold(hold: timedelta | None, violations: Violations) -> timedelta:
    if hold is None:
        return DEFAULT_HOLD
    if not MIN_HOLD <= hold <= MAX_HOLD:
        violations.add("order.hold_duration", "must be between 1 minute and 30 days")
    return hold


def price_lines(
    skus: Sequence[str],
    quantities: Sequence[int],
    prices: Sequence[Money | None],
    variants: dict[str, CatalogVariant],
    prefix: str,
) -> tuple[Line, ...]:
    """Snapshot the catalog: archived SKUs are refused (naming each line),
    a charged price must be zero or more in the list price's currency, and
    every line of an order is in one currency."""
    archived = [
        PreconditionViolation("SKU_ARCHIVED", sku, f"{prefix}[{i}]: the variant is archived")
        for i, sku in enumerate(skus)
        if variants[sku].archived
    ]
    if archived:
        raise FailedPrecondition("archived SKUs cannot be sold", archived, reason="SKU_ARCHIVED")
    violations = Violations()
    lines = []
    for i, (sku, quantity, price) in enumerate(zip(skus, quantities, prices, strict=True)):
        variant = variants[sku]
        unit = price or variant.list_price
        if price is not None and (price.currency_code != variant.list_price.currency_code or price.negative):
            violations.add(
                f"{prefix}[{i}].unit_price",
                f"must be zero or more in {variant.list_price.currency_code}",
            )
        lines.append(Line(sku, quantity, variant.description, variant.list_price, unit))
    violations.raise_if_any()
    currencies = {line.unit_price.currency_code for line in lines}
    if len(currencies) > 1:
        raise FailedPrecondition(
            "the lines are priced in different currencies",
            [
                PreconditionViolation("MIXED_CURRENCIES", line.sku, line.unit_price.currency_code)
                for line in lines
            ],
            reason="MIXED_CURRENCIES",
        )
    return tuple(lines)


def require_status(order: Order, now: datetime, allowed: Sequence[OrderStatus], action: str) -> None:
    status = order.status_at(now)
    if status is OrderStatus.EXPIRED and action == "ship":
        raise FailedPrecondition(
            f"{order_name(order.id)} was not shipped before its hold lapsed",
            reason="ORDER_EXPIRED",
            metadata={"order": order_name(order.id)},
        )
    if status not in allowed:
        raise FailedPrecondition(
            f"cannot {action} an order that is {status.value}",
            reason="INVALID_STATE_TRANSITION",
            metadata={"order": order_name(order.id), "status": status.value},
        )


def returned(order: Order, lines: Sequence[tuple[str, int]]) -> tuple[tuple[Line, ...], Money, OrderStatus]:
    """The order's lines after a return, the return's total and the new status.
    A line returning more than was shipped and not yet returned is OVER_RETURN."""
    by_sku = {line.sku: line for line in order.lines}
    over = [
        PreconditionViolation(
            "OVER_RETURN",
            sku,
            f"shipped {by_sku[sku].shipped_quantity}, returned {by_sku[sku].returned_quantity}, "
            f"returning {quantity}",
        )
        for sku, quantity in lines
        if by_sku[sku].returned_quantity + quantity > by_sku[sku].shipped_quantity
    ]
    if over:
        raise FailedPrecondition("more would come back than was shipped", over, reason="OVER_RETURN")
    coming = dict(lines)
    after = tuple(
        dataclasses.replace(line, returned_quantity=line.returned_quantity + coming.get(line.sku, 0))
        for line in order.lines
    )
    total = Money.of_nanos(
        order.currency_code, sum(by_sku[sku].unit_price.times(q).total_nanos for sku, q in lines)
    )
    done = all(line.returned_quantity >= line.shipped_quantity for line in after)
    return after, total, OrderStatus.RETURNED if done else OrderStatus.PARTIALLY_RETURNED


def new_order(
    order_id: str,
    who: Principal,
    channel: SalesChannel,
    external_id: str,
    customer: str,
    warehouse_id: str,
    lines: tuple[Line, ...],
    note: str,
    order_time: datetime,
    hold_expire_at: datetime,
    now: datetime | None = None,
    *,
    imported: bool = False,
) -> Order:
    """A RESERVED order before its reservation and number are known."""
    created = now or order_time
    return Order(
        id=order_id,
        tenant_id=who.tenant_id,
        number=0,
        channel=channel,
        external_id=external_id,
        customer=customer,
        warehouse_id=warehouse_id,
        status=OrderStatus.RESERVED,
        lines=lines,
        currency_code=lines[0].unit_price.currency_code,
        reservation_id="",
        hold_expire_at=hold_expire_at,
        shipment=None,
        returns=(),
        note=note,
        order_time=order_time,
        creator_id=who.user_id,
        created_at=created,
        updated_at=created,
        cancelled_at=None,
        cancel_reason="",
        version=1,
        imported=imported,
    )


def shipped(order: Order, shipment: Shipment, now: datetime) -> Order:
    return dataclasses.replace(
        order,
        status=OrderStatus.SHIPPED,
        shipment=shipment,
        lines=tuple(dataclasses.replace(line, shipped_quantity=line.quantity) for line in order.lines),
        updated_at=now,
        version=order.version + 1,
    )


def with_return(order: Order, lines: tuple[Line, ...], status: OrderStatus, now: datetime) -> Order:
    return dataclasses.replace(order, lines=lines, status=status, updated_at=now, version=order.version + 1)


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
