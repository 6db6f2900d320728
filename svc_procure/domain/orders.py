"""Purchase orders and their receipts: the state machine, the line rules,
over-receipt, and the changes each step makes to an order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from kit.errors import FailedPrecondition, PreconditionViolation
from svc_procure.domain.money import order_total
from svc_procure.domain.suppliers import Status, Supplier, SupplierItem, lead_time


class PurchaseOrderState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class ReceiptState(StrEnum):
    PENDING = "pending"
    BOOKED = "booked"


OPEN = (PurchaseOrderState.SUBMITTED, PurchaseOrderState.PARTIALLY_RECEIVED)

# The state machine: every allowed (from, to) pair; everything else is refused.
TRANSITIONS = {
    (PurchaseOrderState.DRAFT, PurchaseOrderState.SUBMITTED),
    (PurchaseOrderState.SUBMITTED, PurchaseOrderState.PARTIALLY_RECEIVED),
    (PurchaseOrderState.SUBMITTED, PurchaseOrderState.RECEIVED),
    (PurchaseOrderState.PARTIALLY_RECEIVED, PurchaseOrderState.PARTIALLY_RECEIVED),
    (PurchaseOrderState.PARTIALLY_RECEIVED, PurchaseOrderState.RECEIVED),
    (PurchaseOrderState.DRAFT, PurchaseOrderState.CANCELLED),
    (PurchaseOrderState.SUBMITTED, PurchaseOrderState.CANCELLED),
    (PurchaseOrderState.PARTIALLY_RECEIVED, PurchaseOrderState.CLOSED),
}


@dataclass(frozen=True)
class OrderLine:
    sku: str
    supplier_item_id: str
    supplier_sku: str
    quantity_ordered: int
    quantity_received: int
    unit_cost_nanos: int


@dataclass(frozen=True)
class PurchaseOrder:
    id: str
    tenant_id: str
    number: str
    supplier_id: str
    warehouse_id: str
    state: PurchaseOrderState
    lines: tuple[OrderLine, ...]
    currency_code: str
    expected_delivery_at: datetime | None
    supplier_reference: str
    note: str
    creator: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    version: int

    @property
    def total_nanos(self) -> int:
        return order_total([(line.quantity_ordered, line.unit_cost_nanos) for line in self.lines])

    @property
    def received_total_nanos(self) -> int:
        return order_total([(line.quantity_received, line.unit_cost_nanos) for line in self.lines])


@dataclass(frozen=True)
class Receipt:
    id: str
    tenant_id: str
    purchase_order_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    state: ReceiptState
    delivery_note: str
    note: str
    receiver: str
    stock_movements: tuple[str, ...]
    received_at: datetime
    booked_at: datetime | None


def transition(current: PurchaseOrderState, target: PurchaseOrderState) -> PurchaseOrderState:
    """The new state, or FAILED_PRECONDITION "INVALID_STATE_TRANSITION"."""
    if (current, target) not in TRANSITIONS:
        raise FailedPrecondition(
            f"a purchase order cannot go from {current.value} to {target.value}",
            reason="INVALID_STATE_TRANSITION",
        )
    return target


@dataclass(frozen=True)
class ItemTerms:
    """What a supplier item requires of a line."""

    minimum_order_quantity: int
    pack_size: int


def check_lines(lines: Sequence[tuple[str, int]], terms: Mapping[str, ItemTerms]) -> None:
    """Purchase order line rules; FAILED_PRECONDITION naming every offending
    line, and every rule a line breaks (below the minimum and off the pack)."""
    bad: list[PreconditionViolation] = []
    for sku, qty in lines:
        item = terms.get(sku)
        if item is None:
            bad.append(PreconditionViolation("NO_SUPPLIER_ITEM", sku, "no active item of this supplier"))
            continue
        if qty < item.minimum_order_quantity:
            bad.append(
                PreconditionViolation(
                    "BELOW_MINIMUM_ORDER_QUANTITY",
                    sku,
                    f"ordered {qty}, minimum {item.minimum_order_quantity}",
                )
            )
        if qty % item.pack_size:
            bad.append(
                PreconditionViolation("NOT_PACK_MULTIPLE", sku, f"ordered {qty}, pack size {item.pack_size}")
            )
    if bad:
        raise FailedPrecondition("some lines break the supplier's terms", bad, reason=bad[0].type)


def terms_of(items: Sequence[SupplierItem]) -> dict[str, ItemTerms]:
    return {i.sku: ItemTerms(i.minimum_order_quantity, i.pack_size) for i in items}


@dataclass(frozen=True)
class Line:
    sku: str
    quantity_ordered: int
    quantity_received: int


def receive(
    state: PurchaseOrderState, lines: Sequence[Line], receiving: Mapping[str, int]
) -> tuple[PurchaseOrderState, dict[str, int]]:
    """The order's state after receiving `receiving` (sku -> qty, each >= 1, each
    a line of the order) and each line's new quantity_received. Over-receipt of
    any line refuses the whole receipt, naming every such line."""
    if state not in OPEN:
        raise FailedPrecondition(
            f"a {state.value} purchase order cannot be received against", reason="PURCHASE_ORDER_NOT_OPEN"
        )
    over = [
        PreconditionViolation(
            "OVER_RECEIPT",
            line.sku,
            f"ordered {line.quantity_ordered}, received {line.quantity_received}, "
            f"receiving {receiving[line.sku]}",
        )
        for line in lines
        if line.sku in receiving and line.quantity_received + receiving[line.sku] > line.quantity_ordered
    ]
    if over:
        raise FailedPrecondition("more would be received than was ordered", over, reason="OVER_RECEIPT")
    received = {line.sku: line.quantity_received + receiving.get(line.sku, 0) for line in lines}
    done = all(received[line.sku] >= line.quantity_ordered for line in lines)
    target = PurchaseOrderState.RECEIVED if done else PurchaseOrderState.PARTIALLY_RECEIVED
    return transition(state, target), received


def receipt_request_id(receipt_id: str) -> str:
    """The svc_stock request_id of a receipt's booking: derived from the receipt
    alone, so every retry (after a timeout, a restart, by the background loop)
    asks svc_stock for the same effect and it books once."""
    return f"receipt:{receipt_id}"


def order_lines(lines: Sequence[tuple[str, int]], items: Mapping[str, SupplierItem]) -> tuple[OrderLine, ...]:
    """(sku, quantity) lines at their items' current costs."""
    return tuple(
        OrderLine(sku, items[sku].id, items[sku].supplier_sku, qty, 0, items[sku].unit_cost_nanos)
        for sku, qty in lines
    )


def draft(
    order_id: str,
    creator: str,
    supplier: Supplier,
    warehouse_id: str,
    lines: tuple[OrderLine, ...],
    now: datetime,
    note: str,
    supplier_reference: str = "",
) -> PurchaseOrder:
    """A new DRAFT; the caller checked the line rules."""
    return PurchaseOrder(
        id=order_id,
        tenant_id=supplier.tenant_id,
        number=f"PO-{now:%Y%m%d}-{order_id[:8].upper()}",
        supplier_id=supplier.id,
        warehouse_id=warehouse_id,
        state=PurchaseOrderState.DRAFT,
        lines=lines,
        currency_code=supplier.currency_code,
        expected_delivery_at=None,
        supplier_reference=supplier_reference,
        note=note,
        creator=creator,
        created_at=now,
        updated_at=now,
        submitted_at=None,
        ended_at=None,
        end_reason="",
        version=1,
    )


DRAFT_ONLY = frozenset({"warehouse", "lines"})


def refuse_archived(supplier: Supplier | None) -> Supplier:
    """An order's supplier is never deleted; one that is archived takes no orders."""
    if supplier is None or supplier.status is Status.ARCHIVED:
        raise FailedPrecondition("the supplier is archived", reason="SUPPLIER_ARCHIVED")
    return supplier


def submitted(
    order: PurchaseOrder, supplier: Supplier | None, items: Sequence[SupplierItem], now: datetime
) -> PurchaseOrder:
    """SUBMITTED once its lines still meet the supplier's terms (`items`: its
    active items of the order's SKUs); expected after the slowest line's lead
    time unless a date was set."""
    state = transition(order.state, PurchaseOrderState.SUBMITTED)
    if not order.lines:
        raise FailedPrecondition("a purchase order needs at least one line", reason="NO_LINES")
    supplier = refuse_archived(supplier)
    check_lines([(line.sku, line.quantity_ordered) for line in order.lines], terms_of(items))
    lead = max(lead_time(i, supplier) for i in items)
    return replace(
        order,
        state=state,
        submitted_at=now,
        expected_delivery_at=order.expected_delivery_at or now + timedelta(days=lead),
        updated_at=now,
    )


def check_updatable(order: PurchaseOrder, paths: frozenset[str]) -> None:
    """Final orders take no updates; only a draft may change warehouse or lines."""
    if order.state not in (PurchaseOrderState.DRAFT, *OPEN):
        raise FailedPrecondition(
            f"a {order.state.value} purchase order takes no updates", reason="PURCHASE_ORDER_FINAL"
        )
    if order.state is not PurchaseOrderState.DRAFT and paths & DRAFT_ONLY:
        raise FailedPrecondition(
            f"{', '.join(sorted(paths & DRAFT_ONLY))} can change only while the order is a draft",
            reason="PURCHASE_ORDER_NOT_DRAFT",
        )


def ended(order: PurchaseOrder, target: PurchaseOrderState, reason: str, now: datetime) -> PurchaseOrder:
    """CANCELLED or CLOSED, with the reason kept."""
    return replace(
        order, state=transition(order.state, target), ended_at=now, end_reason=reason, updated_at=now
    )


def received(order: PurchaseOrder, receiving: Mapping[str, int], now: datetime) -> PurchaseOrder:
    """The order after a receipt of `receiving` (sku -> quantity)."""
    lines = [Line(x.sku, x.quantity_ordered, x.quantity_received) for x in order.lines]
    state, got = receive(order.state, lines, receiving)
    return replace(
        order,
        state=state,
        lines=tuple(replace(x, quantity_received=got[x.sku]) for x in order.lines),
        ended_at=now if state is PurchaseOrderState.RECEIVED else None,
        updated_at=now,
    )
