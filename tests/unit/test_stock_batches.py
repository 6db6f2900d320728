"""Specifications of the one decision that grants reservations (svc_stock's
domain), and of the PostgreSQL statements that read and write a batch."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from kit.errors import FailedPrecondition, InvalidArgument
from svc_stock.domain import (
    Decision,
    InsufficientStock,
    Level,
    Line,
    Locked,
    Movement,
    MovementType,
    Provenance,
    Request,
    Reservation,
    ReservationState,
    WarehouseState,
    WarehouseStatus,
    grant_in_order,
    new_reservation,
)
from svc_stock.store import feed, pg_batches, tables

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
A = ("w-1", "A")
B = ("w-1", "B")
ACTIVE = {"w-1": WarehouseState("w-1", "W1", WarehouseStatus.ACTIVE)}
WHO = Provenance("user-1", "caller", "request-1", "")
SWEEPER = Provenance("", "sweeper", "", "")


def level(key: tuple[str, str], on_hand: int, reserved: int = 0, version: int = 7) -> Level:
    return Level(key[0], key[1], on_hand, reserved, 0, 0, None, version)


def line(key: tuple[str, str], quantity: int) -> Line:
    return Line(key[0], key[1], quantity)


def request(*lines: Line) -> Request:
    reservation = new_reservation("t-1", "orders/1", tuple(lines), NOW + timedelta(minutes=15), NOW)
    return Request(reservation, tuple(f"m-{reservation.id}-{i}" for i in range(len(lines))), WHO)


def hold(*lines: Line, lapsed: bool = True) -> Reservation:
    expire_at = NOW - timedelta(seconds=1) if lapsed else NOW + timedelta(minutes=1)
    return new_reservation("t-1", "orders/old", tuple(lines), expire_at, NOW - timedelta(minutes=15))


def decide(
    levels: dict[tuple[str, str], Level], *requests: Request, lapsed: tuple[Reservation, ...] = ()
) -> Decision:
    return grant_in_order(Locked(ACTIVE, levels, lapsed), requests, NOW, sweeper=SWEEPER)


def test_reservations_are_granted_in_arrival_order_while_stock_lasts() -> None:
    decision = decide({A: level(A, 5)}, request(line(A, 2)), request(line(A, 2)), request(line(A, 2)))

    assert sorted(decision.grants) == [0, 1]
    assert [g.levels[0].reserved for g in decision.grants.values()] == [2, 4]
    assert [g.levels[0].version for g in decision.grants.values()] == [8, 9]
    assert decision.levels[A].reserved == 4
    assert isinstance(decision.refusals[2], InsufficientStock)


def test_a_reservation_that_cannot_be_granted_whole_takes_nothing_and_later_ones_still_may() -> None:
    levels = {A: level(A, 3), B: level(B, 1)}
    decision = decide(levels, request(line(A, 2), line(B, 5)), request(line(A, 3)), request(line(B, 1)))

    assert sorted(decision.grants) == [1, 2]
    assert (decision.levels[A].reserved, decision.levels[B].reserved) == (3, 1)
    refusal = decision.refusals[0]
    assert isinstance(refusal, InsufficientStock)
    (violation,) = refusal.violations
    assert (violation.subject, violation.description) == (
        "warehouses/w-1/stockLevels/B",
        "requested 5, available 1",
    )


def test_every_short_line_is_named() -> None:
    decision = decide({A: level(A, 1)}, request(line(A, 2), line(B, 1)))

    refusal = decision.refusals[0]
    assert isinstance(refusal, InsufficientStock)
    assert [v.description for v in refusal.violations] == [
        "requested 2, available 1",
        "requested 1, available 0",
    ]
    assert decision.writes_nothing


def test_lapsed_holds_are_free_stock_and_expire_in_the_same_decision() -> None:
    old = hold(line(A, 20))
    decision = decide(
        {A: level(A, 20, reserved=20)}, *[request(line(A, 1)) for _ in range(25)], lapsed=(old,)
    )

    assert len(decision.grants) == 20
    assert len(decision.refusals) == 5
    assert [r.state for r in decision.expired] == [ReservationState.EXPIRED]
    assert decision.levels[A].reserved == 20
    expire, *reserves = decision.movements
    assert (expire.type, expire.reserved_delta, expire.reserved_after, expire.caller) == (
        MovementType.EXPIRE,
        -20,
        0,
        "sweeper",
    )
    assert expire.effective_at == old.expire_at
    assert [m.reserved_after for m in reserves] == list(range(1, 21))


def test_a_lapsed_hold_on_several_levels_gives_back_every_line() -> None:
    levels = {A: level(A, 5, reserved=5), B: level(B, 3, reserved=3)}
    decision = decide(levels, request(line(A, 5)), lapsed=(hold(line(A, 5), line(B, 3)),))

    assert sorted(decision.grants) == [0]
    assert (decision.levels[A].reserved, decision.levels[B].reserved) == (5, 0)


def test_unknown_and_archived_warehouses_are_refused_before_any_stock_is_looked_at() -> None:
    archived = {**ACTIVE, "w-2": WarehouseState("w-2", "W2", WarehouseStatus.ARCHIVED)}
    locked = Locked(archived, {A: level(A, 5), ("w-2", "A"): level(("w-2", "A"), 5)}, ())
    requests = [request(line(("nope", "A"), 1)), request(line(("w-2", "A"), 1)), request(line(A, 1))]

    decision = grant_in_order(locked, requests, NOW, sweeper=SWEEPER)

    assert isinstance(decision.refusals[0], InvalidArgument)
    assert decision.refusals[0].reason == "UNKNOWN_WAREHOUSE"
    assert isinstance(decision.refusals[1], FailedPrecondition)
    assert decision.refusals[1].reason == "WAREHOUSE_ARCHIVED"
    assert sorted(decision.grants) == [2]


def test_grants_are_numbered_in_the_order_of_their_movements() -> None:
    decision = decide(
        {A: level(A, 10), B: level(B, 10)}, request(line(A, 1), line(B, 1)), request(line(A, 1))
    )

    first, second = decision.outcome(0, 41), decision.outcome(1, 41)

    assert [m.sequence for m in first.movements] == [41, 42]
    assert [lv.last_movement_sequence for lv in first.levels] == [41, 42]
    assert [m.sequence for m in second.movements] == [43]
    assert [m.sequence for m in decision.numbered(41)] == [41, 42, 43]


def test_the_copies_of_levels_and_movements_are_what_dataclasses_replace_makes() -> None:
    decision = decide({A: level(A, 10, reserved=2)}, request(line(A, 3)))
    (movement,) = decision.movements
    before = level(A, 10, reserved=2)

    assert before.changed(-1, 3, NOW) == dataclasses.replace(
        before, on_hand=9, reserved=5, version=8, updated_at=NOW
    )
    assert before.after(12) == dataclasses.replace(before, last_movement_sequence=12)
    assert movement.numbered(40) == dataclasses.replace(movement, sequence=40)
    assert movement.numbered(40).__dict__.keys() == movement.__dict__.keys()


def test_the_batch_statements_read_and_write_the_domains_values_by_their_column_names() -> None:
    # The write sends levels, reservations and movements as they are, encoded
    # by msgspec; the claim reads locked levels straight into Level. A field
    # renamed away from its column would be written as NULL.
    for table, value in (
        (tables.levels, Level),
        (tables.reservations, Reservation),
        (tables.movements, Movement),
    ):
        fields = {f.name for f in dataclasses.fields(value)}
        assert set(table.columns.keys()) - fields <= {"tenant_id"}, table.name


def test_the_batch_statement_that_appends_movements_announces_them_in_its_own_transaction() -> None:
    # Live streams on PostgreSQL are woken by this notification, not by polling.
    assert feed.NOTIFY_SQL in pg_batches.WRITE_SQL.sql
    assert feed.NOTIFY_SQL not in pg_batches.CLAIM_AND_LOCK_SQL.sql
