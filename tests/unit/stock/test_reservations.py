"""Reservations: granted whole or not at all, lapsed holds counted free,
replayed by request id, extended, released, committed, expired."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from kit import errors
from svc_stock import commands
from svc_stock.domain import InsufficientStock, Line, MovementType, ReservationState
from svc_stock.usecases.reservations import reservation_etag
from tests.unit.stock.conftest import CLERK, MANAGER, Shop, origin


async def test_a_reservation_holds_its_lines_and_writes_a_reserve_movement_each(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.receive(w, "B", 5)

    outcome = await shop.reserve((w, "A", 2), (w, "B", 3))

    assert outcome.reservation.state is ReservationState.ACTIVE
    assert [(m.type, m.sku, m.reserved_delta, m.reserved_after) for m in outcome.movements] == [
        (MovementType.RESERVE, "A", 2, 2),
        (MovementType.RESERVE, "B", 3, 3),
    ]
    assert [lv.last_movement_sequence for lv in outcome.levels] == [m.sequence for m in outcome.movements]
    assert (await shop.available(w, "A"), await shop.available(w, "B")) == (3, 2)


async def test_a_reservation_short_on_one_line_takes_nothing_and_names_every_short_line(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.receive(w, "B", 1)

    with pytest.raises(InsufficientStock) as refused:
        await shop.reserve((w, "A", 2), (w, "B", 3), (w, "C", 1))

    assert [(v.subject, v.description) for v in refused.value.violations] == [
        (f"warehouses/{w}/stockLevels/B", "requested 3, available 1"),
        (f"warehouses/{w}/stockLevels/C", "requested 1, available 0"),
    ]
    assert await shop.available(w, "A") == 5


async def test_a_refused_reservation_may_be_retried_with_the_same_request_id(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 1)
    with pytest.raises(InsufficientStock):
        await shop.reserve((w, "A", 2), request_id="retry-1")
    await shop.receive(w, "A", 1)

    granted = await shop.reserve((w, "A", 2), request_id="retry-1")

    assert granted.movements[0].reserved_after == 2


async def test_holds_past_their_expiry_are_free_stock_and_expire_in_the_granting_decision(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 3)
    old = [await shop.reserve((w, "A", 1), ttl=10) for _ in range(3)]
    shop.clock.advance(11)

    outcome = await shop.reserve((w, "A", 3))

    assert outcome.movements[0].reserved_after == 3
    for hold in old:
        stored = await shop.reservations.get(MANAGER, hold.reservation.id)
        assert stored.state is ReservationState.EXPIRED
    expired = await shop.movements.list_movements(
        MANAGER, commands.ListMovements(100, "", types=(MovementType.EXPIRE,))
    )
    assert len(expired.items) == 3
    assert {m.effective_at for m in expired.items} == {h.reservation.expire_at for h in old}
    assert (await shop.levels.reconcile(MANAGER, None)).drifts == []


async def test_a_hold_not_yet_lapsed_still_counts(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 1)
    await shop.reserve((w, "A", 1), ttl=10)
    shop.clock.advance(9)

    with pytest.raises(InsufficientStock):
        await shop.reserve((w, "A", 1))


async def test_a_repeated_request_id_returns_the_first_reservation_and_changes_nothing(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    first = await shop.reserve((w, "A", 2), request_id="same")
    before = copy.deepcopy(shop.memory.state)

    again = await shop.reserve((w, "A", 2), request_id="same")

    assert (again.reservation, again.movements) == (first.reservation, first.movements)
    assert [lv.reserved for lv in again.levels] == [2]
    assert shop.memory.state == before
    assert await shop.available(w, "A") == 3


async def test_a_request_id_sent_again_with_another_reservation_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.reserve((w, "A", 2), request_id="same")

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.reserve((w, "A", 3), request_id="same")

    assert refused.value.reason == "REQUEST_ID_REUSED"


async def test_bad_input_names_every_violation_at_once(shop: Shop) -> None:
    cmd = commands.Reserve(
        " ", (Line("w", "bad sku", 0), Line("w", "bad sku", 1)), commands.Expiry(ttl=timedelta(seconds=2))
    )

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.granting.reserve(CLERK, origin(CLERK), cmd)

    assert {v.field for v in refused.value.violations} == {
        "reservation.reference",
        "reservation.lines[1]",
        "reservation.lines[0].sku",
        "reservation.lines[0].quantity",
        "reservation.lines[1].sku",
        "reservation.expire_time",
    }


async def test_unknown_and_archived_warehouses_are_refused(shop: Shop) -> None:
    archived = await shop.warehouse()
    await shop.warehouses.set_archived(MANAGER, "archive", commands.SetArchived(archived, "", archived=True))

    with pytest.raises(errors.InvalidArgument) as unknown:
        await shop.reserve(("nope", "A", 1))
    with pytest.raises(errors.FailedPrecondition) as closed:
        await shop.reserve((archived, "A", 1))

    assert unknown.value.reason == "UNKNOWN_WAREHOUSE"
    assert closed.value.reason == "WAREHOUSE_ARCHIVED"


async def test_an_extension_moves_the_expiry_and_a_stale_etag_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 1)
    held = (await shop.reserve((w, "A", 1), ttl=60)).reservation

    extended = await shop.reservations.extend(
        CLERK,
        "x-1",
        commands.Extend(held.id, commands.Expiry(ttl=timedelta(hours=1)), reservation_etag(held)),
    )
    with pytest.raises(errors.EtagMismatch):
        await shop.reservations.extend(
            CLERK,
            "x-2",
            commands.Extend(held.id, commands.Expiry(ttl=timedelta(hours=2)), reservation_etag(held)),
        )

    assert extended.expire_at == shop.clock.now + timedelta(hours=1)
    assert extended.version == held.version + 1


async def test_an_extension_to_an_earlier_time_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 1)
    held = (await shop.reserve((w, "A", 1), ttl=3600)).reservation

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.reservations.extend(
            CLERK, "x", commands.Extend(held.id, commands.Expiry(ttl=timedelta(minutes=1)), "")
        )

    assert [v.field for v in refused.value.violations] == ["expire_time"]


async def test_a_release_gives_the_stock_back_once(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    held = (await shop.reserve((w, "A", 2))).reservation

    released = await shop.reservations.release(CLERK, origin(CLERK), commands.Release(held.id, ""))
    again = await shop.reservations.release(CLERK, origin(CLERK), commands.Release(held.id, ""))

    assert released.reservation.state is ReservationState.RELEASED
    assert [(m.type, m.reserved_delta) for m in released.movements] == [(MovementType.RELEASE, -2)]
    assert again.movements == ()
    assert await shop.available(w, "A") == 5


async def test_a_commit_ships_the_stock_and_cannot_be_released_afterwards(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    held = (await shop.reserve((w, "A", 2))).reservation

    shipped = await shop.reservations.commit(CLERK, origin(CLERK), commands.Commit(held.id, None, ""))
    with pytest.raises(errors.FailedPrecondition) as refused:
        await shop.reservations.release(CLERK, origin(CLERK), commands.Release(held.id, ""))

    assert [(m.type, m.quantity_delta, m.reserved_delta) for m in shipped.movements] == [
        (MovementType.SHIPMENT, -2, -2)
    ]
    assert refused.value.reason == "RESERVATION_COMMITTED"
    level = await shop.levels.get_level(MANAGER, w, "A")
    assert (level.on_hand, level.reserved) == (3, 0)


async def test_a_lapsed_hold_cannot_be_committed(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 1)
    held = (await shop.reserve((w, "A", 1), ttl=10)).reservation
    shop.clock.advance(10)

    with pytest.raises(errors.FailedPrecondition) as refused:
        await shop.reservations.commit(CLERK, origin(CLERK), commands.Commit(held.id, None, ""))

    assert refused.value.reason == "RESERVATION_NOT_ACTIVE"


async def test_the_sweep_expires_lapsed_holds_once(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 4)
    await shop.reserve((w, "A", 1), ttl=10)
    await shop.reserve((w, "A", 2), ttl=60)
    shop.clock.advance(30)

    swept = await shop.reservations.sweep()
    again = await shop.reservations.sweep()

    assert (swept, again) == (1, 0)
    level = await shop.levels.get_level(MANAGER, w, "A")
    assert (level.reserved, level.available) == (2, 2)


async def test_reservations_are_listed_newest_first_by_state_as_seen_now(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    lapsing = (await shop.reserve((w, "A", 1), ttl=10)).reservation
    shop.clock.advance(1)
    kept = [(await shop.reserve((w, "A", 1))).reservation for _ in range(2)]
    shop.clock.advance(10)

    def query(state: ReservationState | None, token: str = "") -> commands.ListReservations:
        return commands.ListReservations(1, token, state, "", None, "")

    expired = await shop.reservations.list_reservations(MANAGER, query(ReservationState.EXPIRED))
    first = await shop.reservations.list_reservations(MANAGER, query(ReservationState.ACTIVE))
    second = await shop.reservations.list_reservations(
        MANAGER, query(ReservationState.ACTIVE, first.next_page_token)
    )

    assert [(r.id, r.state) for r in expired.items] == [(lapsing.id, ReservationState.EXPIRED)]
    assert {first.items[0].id, second.items[0].id} == {r.id for r in kept}
    assert second.next_page_token == ""
