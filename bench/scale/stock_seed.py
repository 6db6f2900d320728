"""Sixty days of one warehouse's ledger, written as svc_stock writes it.

Every level gets ten movements, in ten rounds over all levels (each round in
its own shuffled order, as orders and deliveries interleave): a receipt, an
order reserved then shipped, an adjustment, another order, a second receipt, a
third order, a last adjustment. Reservations are committed orders of up to
five lines, with RESERVE and SHIPMENT movements as CommitReservation writes
them. Sequences run 1..10N in time order; each movement's on_hand_after and
reserved_after follow from the deltas before it; each level's on_hand is the
sum of its ledger and its reserved 0. A tenth of the levels end at or below
their reorder point; seven in ten more have a reorder policy above water.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.scale.bulk import random_uuid
from svc_stock.domain import AdjustmentReason, MovementType, ReservationState

PATTERN = (
    MovementType.RECEIPT,
    MovementType.RESERVE,
    MovementType.SHIPMENT,
    MovementType.ADJUSTMENT,
    MovementType.RESERVE,
    MovementType.SHIPMENT,
    MovementType.RECEIPT,
    MovementType.RESERVE,
    MovementType.SHIPMENT,
    MovementType.ADJUSTMENT,
)
ORDER_LINES = 5  # lines per order (reservation), and per receipt or adjustment document
HISTORY = timedelta(days=60)
LOW_SHARE = 0.1
POLICY_SHARE = 0.7
CALLERS = {
    MovementType.RECEIPT: "svc-procure",
    MovementType.RESERVE: "svc-order",
    MovementType.SHIPMENT: "svc-order",
    MovementType.ADJUSTMENT: "dev-client",
}


@dataclass(frozen=True)
class Document:
    """One request behind a group of movements: a receipt, an order, an adjustment."""

    request_id: str
    trace_id: str
    reference: str
    reservation_id: str = ""


@dataclass
class Ledger:
    """The ledger as it is written, and the levels and orders it leaves behind."""

    tenant_id: str
    warehouse_id: str
    user_id: str
    skus: list[str]
    now: datetime
    spiffe: dict[str, str]  # service account -> SPIFFE ID, the movement's caller
    rng: random.Random
    on_hand: list[int] = field(default_factory=list)
    reserved: list[int] = field(default_factory=list)
    changed_at: list[datetime] = field(default_factory=list)
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    lines: list[dict[str, Any]] = field(default_factory=list)
    demanded: set[int] = field(default_factory=set)  # levels with a shipment in the last 28 days

    def __post_init__(self) -> None:
        n = len(self.skus)
        self.on_hand, self.reserved, self.changed_at = [0] * n, [0] * n, [self.now] * n
        self.start = self.now - HISTORY
        self.step = (HISTORY - timedelta(hours=1)) / (len(PATTERN) * n)

    def new_id(self) -> str:
        return random_uuid(self.rng)

    @property
    def last_sequence(self) -> int:
        return len(PATTERN) * len(self.skus)

    def movements(self) -> Iterator[dict[str, Any]]:
        """The whole ledger in sequence order (levels and reservations fill in as it goes)."""
        n = len(self.skus)
        order = list(range(n))
        held: dict[int, int] = {}  # level -> quantity reserved for its open order
        docs: list[Document] = []
        for round_no, kind in enumerate(PATTERN):
            if kind is not MovementType.SHIPMENT:  # an order ships in the order it was reserved
                self.rng.shuffle(order)
                docs = [self.document(kind) for _ in range(0, n, ORDER_LINES)]
            else:
                docs = [self.commit(doc) for doc in docs]
            for position, level in enumerate(order):
                sequence = round_no * n + position + 1
                at = self.start + self.step * (sequence - 1)
                doc = docs[position // ORDER_LINES]
                yield self.movement(kind, level, sequence, at, doc, held)
                if kind is not MovementType.ADJUSTMENT and kind is not MovementType.RECEIPT:
                    self.order_line(kind, level, at, doc, position % ORDER_LINES, held)

    def movement(
        self, kind: MovementType, level: int, sequence: int, at: datetime, doc: Document, held: dict[int, int]
    ) -> dict[str, Any]:
        quantity, reserve, reason = self.change(kind, level, held)
        self.on_hand[level] += quantity
        self.reserved[level] += reserve
        self.changed_at[level] = at
        if kind is MovementType.SHIPMENT and at >= self.now - timedelta(days=28):
            self.demanded.add(level)
        return {
            "tenant_id": self.tenant_id,
            "id": random_uuid(self.rng),
            "sequence": sequence,
            "type": kind.value,
            "warehouse_id": self.warehouse_id,
            "sku": self.skus[level],
            "quantity_delta": quantity,
            "reserved_delta": reserve,
            "on_hand_after": self.on_hand[level],
            "reserved_after": self.reserved[level],
            "reason": reason.value if reason else None,
            "note": "",
            "reference": doc.reference,
            "reservation_id": doc.reservation_id,
            "counterpart_warehouse_id": "",
            "user_id": self.user_id,
            "caller": self.spiffe[CALLERS[kind]],
            "request_id": doc.request_id,
            "trace_id": doc.trace_id,
            "effective_at": at,
            "created_at": at,
        }

    def change(
        self, kind: MovementType, level: int, held: dict[int, int]
    ) -> tuple[int, int, AdjustmentReason | None]:
        """(quantity_delta, reserved_delta, reason) of the next movement of `level`."""
        if kind is MovementType.RECEIPT:
            return (
                self.rng.randint(80, 400) if self.on_hand[level] == 0 else self.rng.randint(20, 200),
                0,
                None,
            )
        if kind is MovementType.RESERVE:
            held[level] = self.rng.randint(1, 12)
            return 0, held[level], None
        if kind is MovementType.SHIPMENT:
            shipped = held.pop(level)
            return -shipped, -shipped, None
        delta = self.rng.choice((-3, -2, -1, 1, 2))
        reason = AdjustmentReason.FOUND if delta > 0 else self.rng.choice(LOSSES)
        return delta, 0, reason

    def document(self, kind: MovementType) -> Document:
        new = self.new_id
        request_id, trace_id = new(), new().replace("-", "")
        if kind is MovementType.RECEIPT:
            return Document(request_id, trace_id, f"purchaseOrders/{new()}/receipts/{new()}")
        if kind is MovementType.RESERVE:
            return Document(request_id, trace_id, f"orders/{new()}", new())
        return Document(request_id, trace_id, "")

    def commit(self, reserved: Document) -> Document:
        """The CommitReservation behind an order's SHIPMENT movements."""
        trace_id = self.new_id().replace("-", "")
        return Document(self.new_id(), trace_id, reserved.reference, reserved.reservation_id)

    def order_line(
        self, kind: MovementType, level: int, at: datetime, doc: Document, line_no: int, held: dict[int, int]
    ) -> None:
        """The reservation behind RESERVE and SHIPMENT movements, committed when shipped."""
        if kind is MovementType.RESERVE:
            if line_no == 0:
                self.reservations[doc.reservation_id] = reservation(self.tenant_id, doc, at)
            self.lines.append(
                {
                    "tenant_id": self.tenant_id,
                    "reservation_id": doc.reservation_id,
                    "line_no": line_no,
                    "warehouse_id": self.warehouse_id,
                    "sku": self.skus[level],
                    "quantity": held[level],
                }
            )
        else:
            committed = {"state": ReservationState.COMMITTED.value, "ended_at": at, "updated_at": at}
            self.reservations[doc.reservation_id].update(
                committed, expire_at=at + timedelta(days=1), version=2
            )

    def levels(self) -> Iterator[dict[str, Any]]:
        """Every level once the ledger is written, with its reorder policy."""
        for level, sku in enumerate(self.skus):
            on_hand, draw = self.on_hand[level], self.rng.random()
            if draw < LOW_SHARE:
                point, quantity = on_hand + self.rng.randint(0, 10), self.rng.randint(5, 20) * 10
            elif draw < LOW_SHARE + POLICY_SHARE:
                point, quantity = self.rng.randint(0, on_hand // 2), self.rng.randint(5, 20) * 10
            else:
                point, quantity = 0, 0
            yield {
                "tenant_id": self.tenant_id,
                "warehouse_id": self.warehouse_id,
                "sku": sku,
                "on_hand": on_hand,
                "reserved": self.reserved[level],
                "reorder_point": point,
                "reorder_quantity": quantity,
                "last_count_at": None,
                "updated_at": self.changed_at[level],
                "version": len(PATTERN) + (1 if quantity else 0),
            }


LOSSES = (AdjustmentReason.DAMAGE, AdjustmentReason.LOSS, AdjustmentReason.EXPIRED, AdjustmentReason.THEFT)


def reservation(tenant_id: str, doc: Document, at: datetime) -> dict[str, Any]:
    """An order's reservation as granted; CommitReservation ends it later."""
    return {
        "tenant_id": tenant_id,
        "id": doc.reservation_id,
        "reference": doc.reference,
        "state": ReservationState.ACTIVE.value,
        "expire_at": at + timedelta(days=30),
        "created_at": at,
        "updated_at": at,
        "ended_at": None,
        "version": 1,
    }


def is_low(level: dict[str, Any]) -> bool:
    return bool(
        level["reorder_quantity"] > 0 and level["on_hand"] - level["reserved"] <= level["reorder_point"]
    )
