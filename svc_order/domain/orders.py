"""Sales orders: lines, totals, states as seen over time, and the changes an
order goes through (placed, cancelled, shipped, goods taken back)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation
from kit.identity import Principal
from svc_order.domain.money import Money
from svc_order.domain.returns import OrderReturn


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


RETURNABLE = (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_RETURNED)


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


def order_number(number: int) -> str:
    return f"SO-{number:06d}"


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


# The changes below leave `version` alone: kit.uow.revise bumps it when it saves.


def cancelled(order: Order, reason: str, now: datetime) -> Order:
    require_status(order, now, (OrderStatus.RESERVED,), "cancel")
    return dataclasses.replace(
        order, status=OrderStatus.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now
    )


def shipped(order: Order, shipment: Shipment, now: datetime) -> Order:
    return dataclasses.replace(
        order,
        status=OrderStatus.SHIPPED,
        shipment=shipment,
        lines=tuple(dataclasses.replace(line, shipped_quantity=line.quantity) for line in order.lines),
        updated_at=now,
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
    done = all(line.returned_quantity >= line.shipped_quantity for line in after)
    return after, return_total(order, lines), OrderStatus.RETURNED if done else OrderStatus.PARTIALLY_RETURNED


def return_total(order: Order, lines: Sequence[tuple[str, int]]) -> Money:
    """What goods of `lines` coming back are worth, at the prices charged."""
    price = {line.sku: line.unit_price for line in order.lines}
    return Money.of_nanos(order.currency_code, sum(price[sku].times(q).total_nanos for sku, q in lines))


def taken_back(order: Order, lines: Sequence[tuple[str, int]], now: datetime) -> Order:
    """The order after goods of `lines` came back. Only a shipped order takes
    goods back, and only of its own lines (every stranger named at once)."""
    require_status(order, now, RETURNABLE, "return")
    skus = {line.sku for line in order.lines}
    strangers = [
        FieldViolation(f"lines[{i}].sku", "not a line of the order")
        for i, (sku, _) in enumerate(lines)
        if sku not in skus
    ]
    if strangers:
        raise InvalidArgument(strangers)
    after, _, status = returned(order, lines)
    return dataclasses.replace(order, lines=after, status=status, updated_at=now)
