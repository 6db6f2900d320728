"""The things svc_stock keeps: warehouses, stock levels, the movements of
the ledger and reservations, and the changes that become movements.

Standard library only. The invariants (on_hand = sum of the ledger, 0 <=
reserved <= on_hand, a reservation granted whole or not at all) are decided
here (`allocation`, `rules`); the database keeps `reserved <= on_hand` as a
named CHECK constraint, a guard that never decides anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

_V = TypeVar("_V")

MIN_HOLD = timedelta(seconds=10)
MAX_HOLD = timedelta(days=30)
DEFAULT_HOLD = timedelta(minutes=15)


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

    def changed(self, quantity_delta: int, reserved_delta: int, now: datetime) -> Level:
        """The level after a movement of these deltas: one version on."""
        return _copied(
            self,
            on_hand=self.on_hand + quantity_delta,
            reserved=self.reserved + reserved_delta,
            version=self.version + 1,
            updated_at=now,
        )

    def after(self, sequence: int) -> Level:
        """The level as of the movement at `sequence` of the ledger."""
        return _copied(self, last_movement_sequence=sequence)


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

    def numbered(self, first_sequence: int) -> Movement:
        """The movement in its place in the ledger: its batch numbered its
        movements from 0, and the ledger gave the batch `first_sequence`."""
        return _copied(self, sequence=first_sequence + self.sequence)


def _copied(value: _V, **changes: Any) -> _V:
    """`dataclasses.replace` for the value types here, whose __init__ only
    stores the fields: their copies on the reservation hot path (three a
    reservation) cost 4 µs each that way, 0.5 µs this way. Callers are the
    typed methods above, which name the fields."""
    copy: _V = object.__new__(type(value))
    copy.__dict__.update(value.__dict__, **changes)
    return copy


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


def level_name(warehouse_id: str, sku: str) -> str:
    return f"warehouses/{warehouse_id}/stockLevels/{sku}"


def movement_of(
    change: Change, sequence: int, level: Level, who: Provenance, now: datetime, movement_id: str = ""
) -> Movement:
    """The movement a change of a level writes, `level` being the level right
    after it: every movement of the ledger is built here."""
    return Movement(
        id=movement_id or str(uuid.uuid4()),
        sequence=sequence,
        type=change.type,
        warehouse_id=change.warehouse_id,
        sku=change.sku,
        quantity_delta=change.quantity_delta,
        reserved_delta=change.reserved_delta,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        reason=change.reason,
        note=change.note,
        reference=change.reference,
        reservation_id=change.reservation_id,
        counterpart_warehouse_id=change.counterpart_warehouse_id,
        user_id=who.user_id,
        caller=who.caller,
        request_id=who.request_id,
        trace_id=who.trace_id,
        effective_at=change.effective_at or now,
        created_at=now,
    )


def reserving(reservation: Reservation) -> list[Change]:
    """The changes that grant a reservation: one RESERVE per line."""
    return [
        Change(
            MovementType.RESERVE,
            line.warehouse_id,
            line.sku,
            reserved_delta=line.quantity,
            reference=reservation.reference,
            reservation_id=reservation.id,
        )
        for line in reservation.lines
    ]


def ending(
    current: Reservation, state: ReservationState, now: datetime, ship_time: datetime | None = None
) -> tuple[Reservation, list[Change]]:
    """A reservation ended (released, expired or committed) and the changes
    that give its stock back or ship it, one per line."""
    kind, effective = {
        ReservationState.RELEASED: (MovementType.RELEASE, now),
        ReservationState.EXPIRED: (MovementType.EXPIRE, current.expire_at),
        ReservationState.COMMITTED: (MovementType.SHIPMENT, ship_time or now),
    }[state]
    shipping = state is ReservationState.COMMITTED
    changes = [
        Change(
            kind,
            line.warehouse_id,
            line.sku,
            quantity_delta=-line.quantity if shipping else 0,
            reserved_delta=-line.quantity,
            reference=current.reference,
            reservation_id=current.id,
            effective_at=effective,
        )
        for line in current.lines
    ]
    ended = replace(current, state=state, updated_at=now, ended_at=now, version=current.version + 1)
    return ended, changes
