"""Granting reservations: the one decision, for one reservation or a batch of
them arriving together.

The store reads under its locks what the decision needs (`Locked`): the
levels, their warehouses, and the holds on them still ACTIVE past their
expiry. Those lapsed holds are free stock: the decision expires them first,
whoever would have swept them, then grants the requests in arrival order,
each whole or not at all. The store then writes exactly the `Decision`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kit.errors import FieldViolation, InvalidArgument, ServiceError
from svc_stock.domain.model import (
    Change,
    Level,
    Line,
    Movement,
    Provenance,
    Reservation,
    ReservationOutcome,
    ReservationState,
    WarehouseStatus,
    empty_level,
    ending,
    movement_of,
    reserving,
)
from svc_stock.domain.rules import InsufficientStock, WarehouseLike, warehouse_accepts_changes

Key = tuple[str, str]  # (warehouse_id, sku)


@dataclass(frozen=True)
class Request:
    """A reservation asked for, with the ids of its RESERVE movements (one
    per line, chosen before the decision so a replay can find them)."""

    reservation: Reservation
    movement_ids: tuple[str, ...]
    who: Provenance

    @property
    def lines(self) -> tuple[Line, ...]:
        return self.reservation.lines


@dataclass(frozen=True)
class WarehouseState:
    id: str
    code: str
    status: WarehouseStatus


@dataclass(frozen=True)
class Locked:
    """What a batch finds under its locks: the warehouses of its lines that
    exist, the levels of its lines and of the lapsed holds' lines that exist,
    and the holds still ACTIVE past their expiry on those levels (every line)."""

    warehouses: Mapping[str, WarehouseLike]
    levels: Mapping[Key, Level]
    lapsed: Sequence[Reservation]


@dataclass(frozen=True)
class Grant:
    """A granted request: its RESERVE movements and the levels right after each."""

    reservation: Reservation
    movements: tuple[Movement, ...]
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Decision:
    """What a batch writes: the lapsed holds expired, the requests granted,
    the movements in the order they are appended (numbered from 0 until the
    ledger gives the first sequence), the changed levels as they end up; and
    the refusal of every request not granted."""

    expired: tuple[Reservation, ...]
    grants: Mapping[int, Grant]
    refusals: Mapping[int, ServiceError]
    movements: tuple[Movement, ...]
    levels: Mapping[Key, Level]

    @property
    def writes_nothing(self) -> bool:
        return not self.movements

    def numbered(self, first_sequence: int) -> tuple[Movement, ...]:
        return tuple(m.numbered(first_sequence) for m in self.movements)

    def outcome(self, index: int, first_sequence: int) -> ReservationOutcome:
        """What the granted request `index` returns once the batch is numbered."""
        grant = self.grants[index]
        movements = tuple(m.numbered(first_sequence) for m in grant.movements)
        levels = tuple(level.after(m.sequence) for level, m in zip(grant.levels, movements, strict=True))
        return ReservationOutcome(grant.reservation, movements, levels)


class _Ledger:
    """The levels of a batch as its movements change them, in order."""

    def __init__(self, levels: Mapping[Key, Level], now: datetime) -> None:
        self.levels = dict(levels)
        self.changed: dict[Key, Level] = {}
        self.movements: list[Movement] = []
        self.now = now

    def append(self, change: Change, who: Provenance, movement_id: str = "") -> tuple[Movement, Level]:
        key = (change.warehouse_id, change.sku)
        level = self.levels[key]
        after = level.changed(change.quantity_delta, change.reserved_delta, self.now)
        self.levels[key] = self.changed[key] = after
        movement = movement_of(change, len(self.movements), after, who, self.now, movement_id)
        self.movements.append(movement)
        return movement, after

    def available(self, key: Key) -> Level:
        return self.levels.get(key) or empty_level(*key)


def grant_in_order(
    locked: Locked, requests: Sequence[Request], now: datetime, *, sweeper: Provenance
) -> Decision:
    """The lapsed holds expire (their EXPIRE movements by `sweeper`), then
    each request in arrival order is granted whole from what is left, or
    refused: a line in a warehouse that does not exist or is archived, or
    lines asking for more than is available (each short line named). A
    refused request takes nothing; the ones after it may still be granted."""
    ledger = _Ledger(locked.levels, now)
    expired = []
    for hold in sorted(locked.lapsed, key=lambda r: r.id):
        ended, changes = ending(hold, ReservationState.EXPIRED, now)
        for change in changes:
            ledger.append(change, sweeper)
        expired.append(ended)
    grants: dict[int, Grant] = {}
    refusals: dict[int, ServiceError] = {}
    for index, request in enumerate(requests):
        refusal = _refusal(request, locked.warehouses, ledger)
        if refusal is not None:
            refusals[index] = refusal
            continue
        written = [
            ledger.append(change, request.who, movement_id)
            for change, movement_id in zip(reserving(request.reservation), request.movement_ids, strict=True)
        ]
        grants[index] = Grant(
            request.reservation, tuple(m for m, _ in written), tuple(level for _, level in written)
        )
    return Decision(tuple(expired), grants, refusals, tuple(ledger.movements), ledger.changed)


def _refusal(
    request: Request, warehouses: Mapping[str, WarehouseLike], ledger: _Ledger
) -> ServiceError | None:
    unknown = [
        FieldViolation(f"reservation.lines[{i}].warehouse", "no such warehouse")
        for i, line in enumerate(request.lines)
        if line.warehouse_id not in warehouses
    ]
    if unknown:
        return InvalidArgument(unknown, reason="UNKNOWN_WAREHOUSE")
    try:
        for warehouse_id in dict.fromkeys(line.warehouse_id for line in request.lines):
            warehouse_accepts_changes(warehouses[warehouse_id])
    except ServiceError as archived:
        return archived
    short = [
        (level, line.quantity)
        for line in request.lines
        if (level := ledger.available((line.warehouse_id, line.sku))).available < line.quantity
    ]
    return InsufficientStock(short) if short else None
