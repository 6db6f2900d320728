"""Reservations: whole or nothing, released, committed, extended, expired."""

from __future__ import annotations

import time

from grpc import StatusCode

from stockmesh.stock.v1 import stock_pb2 as pb
from tests import harness
from tests.conftest import new_id
from tests.integration.stock.conftest import World


def test_a_reservation_holds_stock_until_released(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 10)

    created = world.reserve([(warehouse, sku, 4)])
    held = world.level(warehouse, sku)
    released = world.reservations.ReleaseReservation(
        pb.ReleaseReservationRequest(request_id=new_id(), name=created.reservation.name),
        metadata=world.as_role(),
        timeout=10,
    )

    assert created.reservation.state == pb.RESERVATION_STATE_ACTIVE
    assert created.movements[0].type == pb.MOVEMENT_TYPE_RESERVE
    assert (held.on_hand, held.reserved, held.available) == (10, 4, 6)
    assert released.reservation.state == pb.RESERVATION_STATE_RELEASED
    assert world.level(warehouse, sku).available == 10


def test_short_stock_is_refused_naming_each_short_line_and_holds_nothing(world: World) -> None:
    warehouse, (a, b, c) = world.warehouse(), world.skus(3)
    world.receive(warehouse, a, 10)
    world.receive(warehouse, b, 1)

    refusal = harness.refused(world.reserve, [(warehouse, a, 5), (warehouse, b, 2), (warehouse, c, 1)])

    assert (refusal.code, refusal.reason) == (StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    assert {(v.subject, v.description) for v in refusal.precondition_violations} == {
        (f"{warehouse}/stockLevels/{b}", "requested 2, available 1"),
        (f"{warehouse}/stockLevels/{c}", "requested 1, available 0"),
    }
    assert world.level(warehouse, a).reserved == 0


def test_committing_ships_the_stock(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 10)
    created = world.reserve([(warehouse, sku, 3)])

    committed = world.reservations.CommitReservation(
        pb.CommitReservationRequest(request_id=new_id(), name=created.reservation.name),
        metadata=world.as_role(),
        timeout=10,
    )

    (shipment,) = committed.movements
    assert committed.reservation.state == pb.RESERVATION_STATE_COMMITTED
    assert (shipment.type, shipment.quantity_delta, shipment.reserved_delta) == (
        pb.MOVEMENT_TYPE_SHIPMENT,
        -3,
        -3,
    )
    level = world.level(warehouse, sku)
    assert (level.on_hand, level.reserved) == (7, 0)


def test_a_committed_reservation_cannot_be_released_or_committed_again(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 5)
    name = world.reserve([(warehouse, sku, 2)]).reservation.name
    commit = pb.CommitReservationRequest(request_id=new_id(), name=name)
    world.reservations.CommitReservation(commit, metadata=world.as_role(), timeout=10)

    release = harness.refused(
        world.reservations.ReleaseReservation,
        pb.ReleaseReservationRequest(request_id=new_id(), name=name),
        metadata=world.as_role(),
        timeout=10,
    )
    again = harness.refused(
        world.reservations.CommitReservation,
        pb.CommitReservationRequest(request_id=new_id(), name=name),
        metadata=world.as_role(),
        timeout=10,
    )
    replay = world.reservations.CommitReservation(commit, metadata=world.as_role(), timeout=10)

    assert release.reason == "RESERVATION_COMMITTED"
    assert again.reason == "RESERVATION_NOT_ACTIVE"
    assert replay.reservation.state == pb.RESERVATION_STATE_COMMITTED
    assert world.level(warehouse, sku).on_hand == 3


def test_releasing_twice_succeeds_and_changes_nothing_more(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 5)
    name = world.reserve([(warehouse, sku, 2)]).reservation.name

    for _ in range(2):
        world.reservations.ReleaseReservation(
            pb.ReleaseReservationRequest(request_id=new_id(), name=name), metadata=world.as_role(), timeout=10
        )

    assert world.level(warehouse, sku).available == 5


def test_an_expired_reservation_returns_its_stock(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 5)
    name = world.reserve([(warehouse, sku, 5)], ttl_seconds=10).reservation.name
    world.reservations.ExtendReservation(
        pb.ExtendReservationRequest(request_id=new_id(), name=name, ttl={"seconds": 10}),
        metadata=world.as_role(),
        timeout=10,
    )

    def ledger_types() -> list[int]:
        request = pb.ListMovementsRequest(reservation=name)
        return [
            m.type
            for m in world.levels.ListMovements(request, metadata=world.as_role(), timeout=10).movements
        ]

    deadline = time.monotonic() + 25
    while len(ledger_types()) < 2 and time.monotonic() < deadline:
        time.sleep(0.25)

    assert ledger_types() == [pb.MOVEMENT_TYPE_RESERVE, pb.MOVEMENT_TYPE_EXPIRE]
    assert world.level(warehouse, sku).available == 5
    reservation = world.reservations.GetReservation(
        pb.GetReservationRequest(name=name), metadata=world.as_role(), timeout=10
    ).reservation
    assert reservation.state == pb.RESERVATION_STATE_EXPIRED


def test_an_expiry_too_soon_or_too_far_is_refused(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 5)

    too_soon = harness.refused(world.reserve, [(warehouse, sku, 1)], ttl_seconds=2)
    too_far = harness.refused(world.reserve, [(warehouse, sku, 1)], ttl_seconds=31 * 86400)

    assert too_soon.code == too_far.code == StatusCode.INVALID_ARGUMENT
    assert "reservation.expire_time" in too_soon.field_violations


def test_duplicate_lines_and_unknown_warehouses_are_bad_input(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()

    duplicate = harness.refused(world.reserve, [(warehouse, sku, 1), (warehouse, sku, 2)])
    unknown = harness.refused(world.reserve, [("warehouses/nope", sku, 1)])

    assert "reservation.lines[1]" in duplicate.field_violations
    assert (unknown.code, list(unknown.field_violations)) == (
        StatusCode.INVALID_ARGUMENT,
        ["reservation.lines[0].warehouse"],
    )


def test_a_lapsed_hold_is_free_stock_before_any_sweep(unswept_world: World) -> None:
    world = unswept_world
    warehouse, other, (sku,) = world.warehouse(), world.warehouse(), world.skus()
    world.receive(warehouse, sku, 6)
    name = world.reserve([(warehouse, sku, 6)], ttl_seconds=10).reservation.name
    time.sleep(10.5)

    level = world.level(warehouse, sku)
    state = world.reservations.GetReservation(
        pb.GetReservationRequest(name=name), metadata=world.as_role(), timeout=10
    ).reservation.state
    world.levels.TransferStock(
        pb.TransferStockRequest(
            request_id=new_id(),
            source_warehouse=warehouse,
            destination_warehouse=other,
            lines=[pb.StockLine(sku=sku, quantity=6)],
        ),
        metadata=world.as_role(),
        timeout=10,
    )

    assert (level.reserved, level.available) == (0, 6)
    assert state == pb.RESERVATION_STATE_EXPIRED
    assert world.level(other, sku).on_hand == 6


def test_committing_a_hold_on_all_the_stock_ships_it_all(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 5)
    name = world.reserve([(warehouse, sku, 5)]).reservation.name

    world.reservations.CommitReservation(
        pb.CommitReservationRequest(request_id=new_id(), name=name), metadata=world.as_role(), timeout=10
    )

    level = world.level(warehouse, sku)
    assert (level.on_hand, level.reserved, level.available) == (0, 0, 0)
