"""The rules of svc_stock's input and of the state a change finds, with the
refusals callers see (every violation of a request at once)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from kit.errors import FailedPrecondition, PermissionDenied, PreconditionViolation, Violations
from svc_stock.domain.model import (
    MAX_HOLD,
    MIN_HOLD,
    Level,
    Reservation,
    ReservationState,
    WarehouseStatus,
    level_name,
)

SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CODE = re.compile(r"[A-Z0-9-]{1,16}")
MAX_LINES = 500
CLERK_ADJUSTMENT_LIMIT = 10


class WarehouseLike(Protocol):
    """What the rules need of a warehouse."""

    @property
    def id(self) -> str: ...

    @property
    def code(self) -> str: ...

    @property
    def status(self) -> WarehouseStatus: ...


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


def warehouse_accepts_changes(warehouse: WarehouseLike) -> None:
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
