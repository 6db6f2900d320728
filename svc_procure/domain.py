"""The rules of purchase orders, receipts and replenishment.

Standard library only. Money is exact: an amount is integer nanos of the
supplier's currency (google.type.Money's units and nanos, joined), so totals
are integer sums and products, never floats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kit.errors import FailedPrecondition, PreconditionViolation

NANOS = 1_000_000_000
DEFAULT_WINDOW_DAYS = 28
DEFAULT_COVERAGE_DAYS = 14


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


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    COVERED = "covered"
    NO_SUPPLIER = "no_supplier"


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


def transition(current: PurchaseOrderState, target: PurchaseOrderState) -> PurchaseOrderState:
    """The new state, or FAILED_PRECONDITION "INVALID_STATE_TRANSITION"."""
    if (current, target) not in TRANSITIONS:
        raise FailedPrecondition(
            f"a purchase order cannot go from {current.value} to {target.value}",
            reason="INVALID_STATE_TRANSITION",
        )
    return target


def line_total(quantity: int, unit_cost_nanos: int) -> int:
    """Exact: integer nanos."""
    return quantity * unit_cost_nanos


def order_total(lines: Sequence[tuple[int, int]]) -> int:
    """Sum of quantity * unit cost (nanos) over (quantity, unit_cost_nanos) lines."""
    return sum(line_total(q, c) for q, c in lines)


def to_nanos(units: int, nanos: int) -> int:
    return units * NANOS + nanos


def from_nanos(amount: int) -> tuple[int, int]:
    """(units, nanos) with the same sign, as google.type.Money requires."""
    units = abs(amount) // NANOS
    nanos = abs(amount) % NANOS
    sign = -1 if amount < 0 else 1
    return sign * units, sign * nanos


@dataclass(frozen=True)
class ItemTerms:
    """What a supplier item requires of a line."""

    minimum_order_quantity: int
    pack_size: int


def check_lines(lines: Sequence[tuple[str, int]], terms: Mapping[str, ItemTerms]) -> None:
    """Purchase order line rules; FAILED_PRECONDITION naming every offending line."""
    bad: list[PreconditionViolation] = []
    for sku, qty in lines:
        item = terms.get(sku)
        if item is None:
            bad.append(PreconditionViolation("NO_SUPPLIER_ITEM", sku, "no active item of this supplier"))
        elif qty < item.minimum_order_quantity:
            bad.append(
                PreconditionViolation(
                    "BELOW_MINIMUM_ORDER_QUANTITY",
                    sku,
                    f"ordered {qty}, minimum {item.minimum_order_quantity}",
                )
            )
        elif qty % item.pack_size:
            bad.append(
                PreconditionViolation("NOT_PACK_MULTIPLE", sku, f"ordered {qty}, pack size {item.pack_size}")
            )
    if bad:
        raise FailedPrecondition("some lines break the supplier's terms", bad, reason=bad[0].type)


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


@dataclass(frozen=True)
class Position:
    """A stock level and what is coming, as replenishment sees it."""

    available: int
    reorder_point: int
    reorder_quantity: int
    on_order: int
    draft: int
    shipped: int
    returned: int


@dataclass(frozen=True)
class Sizing:
    """The chosen supplier item's terms; None in a proposal means NO_SUPPLIER."""

    lead_time_days: int
    minimum_order_quantity: int
    pack_size: int


@dataclass(frozen=True)
class Proposal:
    status: ProposalStatus
    inventory_position: int
    demand: int
    daily_demand: float
    target_position: int
    raw_quantity: int
    suggested_quantity: int
    explanation: str


def propose(p: Position, sizing: Sizing | None, window_days: int, coverage_days: int) -> Proposal:
    """The replenishment formula (see ReplenishmentService in the contract and
    docs/procure.md):

        demand             = max(shipped - returned, 0)
        daily_demand       = demand / window_days
        inventory_position = available + on_order + draft
        inventory_position > reorder_point  ->  COVERED, 0
        target_position    = reorder_point + ceil(daily_demand * (lead_time + coverage))
        raw_quantity       = max(target_position - inventory_position, reorder_quantity)
        suggested          = max(raw_quantity, MOQ) rounded up to a multiple of pack_size

    What is on order or drafted counts in the position, so a SKU already coming
    is never proposed again. Without a supplier: lead time 0, no MOQ or pack.
    The ceiling is taken on an exact fraction (demand * days / window), so no
    float rounding can tip a whole number up by one.
    """
    demand = max(p.shipped - p.returned, 0)
    daily = demand / window_days
    position = p.available + p.on_order + p.draft
    lead = sizing.lead_time_days if sizing else 0
    head = (
        f"available {p.available} + on order {p.on_order} + draft {p.draft} = {position}"
        f" vs reorder point {p.reorder_point}"
    )
    if position > p.reorder_point:
        return Proposal(ProposalStatus.COVERED, position, demand, daily, 0, 0, 0, f"{head}: covered")
    cover = -(-demand * (lead + coverage_days) // window_days)  # exact ceil
    target = p.reorder_point + cover
    raw = max(target - position, p.reorder_quantity)
    text = (
        f"{head}; demand {demand} in {window_days} d; target {p.reorder_point} + "
        f"ceil({demand}/{window_days} * ({lead} + {coverage_days})) = {target}; need {raw}"
    )
    if sizing is None:
        return Proposal(
            ProposalStatus.NO_SUPPLIER, position, demand, daily, target, raw, raw, f"{text}; no supplier"
        )
    qty = max(raw, sizing.minimum_order_quantity)
    text += f"; MOQ {sizing.minimum_order_quantity} -> {qty}"
    qty = -(-qty // sizing.pack_size) * sizing.pack_size
    text += f"; pack {sizing.pack_size} -> {qty}"
    return Proposal(ProposalStatus.PROPOSED, position, demand, daily, target, raw, qty, text)


class Status(StrEnum):
    """Of suppliers and supplier items."""

    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Supplier:
    id: str
    tenant_id: str
    display_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    currency_code: str
    default_lead_time_days: int
    note: str
    status: Status
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


@dataclass(frozen=True)
class SupplierItem:
    id: str
    tenant_id: str
    supplier_id: str
    sku: str
    supplier_sku: str
    unit_cost_nanos: int
    lead_time_days: int | None  # None: the supplier's default
    minimum_order_quantity: int
    pack_size: int
    preferred: bool
    status: Status
    created_at: datetime
    updated_at: datetime
    version: int


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


def matches(query: str, *texts: str) -> bool:
    """Every word of `query` is, case-insensitively, the prefix of a word of `texts`."""
    words = [w for text in texts for w in re.split(r"[\s@.,;:()/+-]+", text.casefold()) if w]
    return all(any(w.startswith(q) for w in words) for q in query.casefold().split())
