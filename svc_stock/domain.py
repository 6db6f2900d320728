"""The rules of warehouses, stock levels, the ledger and reservations.

Standard library only. The invariants (on_hand = sum of the ledger, 0 <=
reserved <= on_hand, a reservation granted whole or not at all) are enforced
three times over: here as named rules with the messages callers see, in the
store as conditional updates, and in the database as named CHECK constraints.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from kit.errors import FailedPrecondition, PermissionDenied, PreconditionViolation, Violations

SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CODE = re.compile(r"[A-Z0-9-]{1,16}")
MAX_LINES = 500
MIN_HOLD = timedelta(seconds=10)
MAX_HOLD = timedelta(days=30)
DEFAULT_HOLD = timedelta(minutes=15)
CLERK_ADJUSTMENT_LIMIT = 10


class WarehouseStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class MovementType(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    CYCLE_COUNT = "cycle_count"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    SHIPMENT = "shipment"
    RETURN = "return"
    RESERVE = "reserve"
    RELEASE = "release"
    EXPIRE = "expire"


class AdjustmentReason(StrEnum):
    DAMAGE = "damage"
    LOSS = "loss"
    FOUND = "found"
    CORRECTION = "correction"
    EXPIRED = "expired"
    THEFT = "theft"
    INTERNAL_USE = "internal_use"
    RETURN_TO_SUPPLIER = "return_to_supplier"
    OTHER = "other"


class ReservationState(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...] = ()
    locality: str = ""
    administrative_area: str = ""
    postal_code: str = ""
    region_code: str = ""


@dataclass(frozen=True)
class Warehouse:
    id: str
    tenant_id: str
    code: str
    display_name: str
    address: Address
    status: WarehouseStatus
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


@dataclass(frozen=True)
class Level:
    """The stock of one SKU in one warehouse."""

    warehouse_id: str
    sku: str
    on_hand: int
    reserved: int
    reorder_point: int
    reorder_quantity: int
    updated_at: datetime | None
    version: int
    last_movement_sequence: int = 0
    last_count_at: datetime | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def low_stock(self) -> bool:
        return self.reorder_quantity > 0 and self.available <= self.reorder_point


def empty_level(warehouse_id: str, sku: str) -> Level:
    """A SKU the warehouse never held reads as zeros without a policy."""
    return Level(warehouse_id, sku, 0, 0, 0, 0, None, 0)


@dataclass(frozen=True)
class Provenance:
    """Who and what caused a change: recorded on every movement."""

    user_id: str
    caller: str
    request_id: str
    trace_id: str


@dataclass(frozen=True)
class Change:
    """One planned change of one level, which becomes one movement."""

    type: MovementType
    warehouse_id: str
    sku: str
    quantity_delta: int = 0
    reserved_delta: int = 0
    reason: AdjustmentReason | None = None
    note: str = ""
    reference: str = ""
    reservation_id: str = ""
    counterpart_warehouse_id: str = ""
    effective_at: datetime | None = None
    counted: int | None = None  # CYCLE_COUNT: the new on_hand; the delta follows from it


@dataclass(frozen=True)
class Movement:
    id: str
    sequence: int
    type: MovementType
    warehouse_id: str
    sku: str
    quantity_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: AdjustmentReason | None
    note: str
    reference: str
    reservation_id: str
    counterpart_warehouse_id: str
    user_id: str
    caller: str
    request_id: str
    trace_id: str
    effective_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class Line:
    """A SKU and a quantity in a warehouse (reservation and stock lines)."""

    warehouse_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Reservation:
    id: str
    tenant_id: str
    reference: str
    lines: tuple[Line, ...]
    state: ReservationState
    expire_at: datetime
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    version: int

    def state_at(self, now: datetime) -> ReservationState:
        """Expiry takes effect at expire_time, before any sweeper writes it down."""
        if self.state is ReservationState.ACTIVE and self.expire_at <= now:
            return ReservationState.EXPIRED
        return self.state


@dataclass(frozen=True)
class Outcome:
    """What a stock change returns: its movements and the levels after it."""

    movements: tuple[Movement, ...]
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class ReservationReceipt:
    """What CreateReservation remembers for its request_id: the reservation as
    created and its RESERVE movements; a replay reads those movements back."""

    reservation: Reservation
    movement_ids: tuple[str, ...]


@dataclass(frozen=True)
class ReservationOutcome:
    reservation: Reservation
    movements: tuple[Movement, ...]
    levels: tuple[Level, ...]


def new_reservation(
    tenant_id: str, reference: str, lines: tuple[Line, ...], expire_at: datetime, now: datetime
) -> Reservation:
    return Reservation(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        reference=reference.strip(),
        lines=lines,
        state=ReservationState.ACTIVE,
        expire_at=expire_at,
        created_at=now,
        updated_at=now,
        ended_at=None,
        version=1,
    )


@dataclass(frozen=True)
class Grant:
    """A reservation of a batch granted in full: the levels right after it, in
    the order of its lines (each with its movement's sequence once the batch
    is numbered), and where its movements start among the batch's."""

    index: int
    levels: tuple[Level, ...]
    first_movement: int
    at: datetime

    def numbered(self, first_sequence: int) -> Grant:
        """This grant once the batch's first movement sequence is known."""
        start = first_sequence + self.first_movement
        return replace(
            self,
            levels=tuple(
                replace(level, last_movement_sequence=start + j) for j, level in enumerate(self.levels)
            ),
        )


def grant_in_order(
    levels: Mapping[tuple[str, str], Level],
    requests: Sequence[Sequence[Line]],
    now: datetime,
    *,
    first_sequence: int | None = None,
) -> tuple[list[Grant], dict[tuple[str, str], Level]]:
    """Reservations granted whole or not at all, in arrival order, from the
    levels as locked; one that cannot be granted in full takes nothing, and
    the ones after it may still be. A line whose level is not in `levels`
    (no stock ever, or its warehouse not active) is not granted. With
    `first_sequence`, the grants come numbered (see `Grant.numbered`).

    Returns the grants and the levels after all of them."""
    current = dict(levels)
    grants: list[Grant] = []
    movements = 0
    for index, lines in enumerate(requests):
        if not all(
            (line.warehouse_id, line.sku) in current
            and current[(line.warehouse_id, line.sku)].available >= line.quantity
            for line in lines
        ):
            continue
        after = []
        for j, line in enumerate(lines):
            key = (line.warehouse_id, line.sku)
            level = current[key]
            current[key] = replace(
                level,
                reserved=level.reserved + line.quantity,
                version=level.version + 1,
                updated_at=now,
                last_movement_sequence=0 if first_sequence is None else first_sequence + movements + j,
            )
            after.append(current[key])
        grants.append(Grant(index, tuple(after), movements, now))
        movements += len(lines)
    return grants, current


def level_name(warehouse_id: str, sku: str) -> str:
    return f"warehouses/{warehouse_id}/stockLevels/{sku}"


# --- input rules -------------------------------------------------------------


def check_sku(sku: str, field: str, violations: Violations) -> None:
    if not SKU.fullmatch(sku):
        violations.add(
            field, "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )


def check_code(code: str, field: str, violations: Violations) -> None:
    if not CODE.fullmatch(code):
        violations.add(field, "1-16 characters of A-Z, 0-9 and '-'")


def check_line_count(count: int, field: str, violations: Violations) -> None:
    if count == 0:
        violations.add(field, "at least one line")
    elif count > MAX_LINES:
        violations.add(field, f"at most {MAX_LINES} lines")


def check_unique(keys: Sequence[object], field: str, what: str, violations: Violations) -> None:
    seen: set[object] = set()
    for i, key in enumerate(keys):
        if key in seen:
            violations.add(f"{field}[{i}]", f"a second line for the same {what}")
        seen.add(key)


def check_positive(quantity: int, field: str, violations: Violations) -> None:
    if quantity < 1:
        violations.add(field, "at least 1")


def check_hold(expire_at: datetime, now: datetime, field: str, violations: Violations) -> None:
    if not now + MIN_HOLD <= expire_at <= now + MAX_HOLD:
        violations.add(field, "between 10 seconds and 30 days from now")


def check_clerk_adjustment(deltas: Iterable[int], limit: int = CLERK_ADJUSTMENT_LIMIT) -> None:
    """Clerks fix small discrepancies; larger corrections need a manager."""
    largest = max((abs(d) for d in deltas), default=0)
    if largest > limit:
        raise PermissionDenied(
            f"clerks may adjust at most {limit} units a line; this needs a manager",
            reason="ADJUSTMENT_ABOVE_CLERK_LIMIT",
            metadata={"limit": str(limit)},
        )


# --- state rules -------------------------------------------------------------


class InsufficientStock(FailedPrecondition):
    """Lines ask for more than is available; names each with what is."""

    reason = "INSUFFICIENT_STOCK"

    def __init__(self, shortfalls: Sequence[tuple[Level, int]]) -> None:
        super().__init__(
            f"not enough stock for {len(shortfalls)} line(s)",
            [
                PreconditionViolation(
                    self.reason,
                    level_name(level.warehouse_id, level.sku),
                    f"requested {requested}, available {max(level.available, 0)}",
                )
                for level, requested in shortfalls
            ],
        )


class CountBelowReserved(FailedPrecondition):
    reason = "COUNT_BELOW_RESERVED"

    def __init__(self, lines: Sequence[tuple[Level, int]]) -> None:
        super().__init__(
            "a count below the reserved quantity: release or ship reservations first",
            [
                PreconditionViolation(
                    self.reason,
                    level_name(level.warehouse_id, level.sku),
                    f"counted {counted}, reserved {level.reserved}",
                )
                for level, counted in lines
            ],
        )


def warehouse_accepts_changes(warehouse: Warehouse) -> None:
    if warehouse.status is WarehouseStatus.ARCHIVED:
        raise FailedPrecondition(
            f"warehouse {warehouse.code} is archived",
            [PreconditionViolation("WAREHOUSE_ARCHIVED", f"warehouses/{warehouse.id}", "unarchive it first")],
            reason="WAREHOUSE_ARCHIVED",
        )


def reservation_is_active(reservation: Reservation, now: datetime) -> None:
    state = reservation.state_at(now)
    if state is not ReservationState.ACTIVE:
        raise FailedPrecondition(
            f"the reservation is {state.value}",
            [PreconditionViolation("RESERVATION_NOT_ACTIVE", f"reservations/{reservation.id}", state.value)],
            reason="RESERVATION_NOT_ACTIVE",
        )


def releasable(reservation: Reservation, now: datetime) -> bool:
    """True when releasing changes something; committed reservations are refused."""
    state = reservation.state_at(now)
    if state is ReservationState.COMMITTED:
        raise FailedPrecondition(
            "the reservation was committed (shipped); book a return instead",
            [PreconditionViolation("RESERVATION_COMMITTED", f"reservations/{reservation.id}", "committed")],
            reason="RESERVATION_COMMITTED",
        )
    return state is ReservationState.ACTIVE
