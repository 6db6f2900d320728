"""Stock changes booked on the ledger: receive, adjust, count, transfer, return."""

from __future__ import annotations

import copy

import pytest

from kit import errors
from svc_stock import commands
from svc_stock.domain import AdjustmentReason, CountBelowReserved, InsufficientStock, MovementType
from tests.unit.stock.conftest import CLERK, MANAGER, Shop, origin


async def test_a_receipt_adds_stock_and_numbers_its_movements_in_order(shop: Shop) -> None:
    w = await shop.warehouse()
    cmd = commands.Receive(w, (commands.StockLine("A", 5), commands.StockLine("B", 2)), "po-1")

    outcome = await shop.stock.receive(MANAGER, origin(), cmd)

    assert [(m.type, m.sku, m.quantity_delta, m.on_hand_after, m.sequence) for m in outcome.movements] == [
        (MovementType.RECEIPT, "A", 5, 5, 1),
        (MovementType.RECEIPT, "B", 2, 2, 2),
    ]
    assert [lv.last_movement_sequence for lv in outcome.levels] == [1, 2]
    assert await shop.available(w, "B") == 2


async def test_a_repeated_request_id_returns_the_first_receipt_and_changes_nothing(shop: Shop) -> None:
    w = await shop.warehouse()
    cmd = commands.Receive(w, (commands.StockLine("A", 5),))
    first = await shop.stock.receive(MANAGER, origin(request_id="r-1"), cmd)
    before = copy.deepcopy(shop.memory.state)

    again = await shop.stock.receive(MANAGER, origin(request_id="r-1"), cmd)

    assert again == first
    assert shop.memory.state == before


async def test_skus_the_catalog_does_not_know_are_refused_by_line(shop: Shop) -> None:
    w = await shop.warehouse()
    cmd = commands.Receive(w, (commands.StockLine("A", 1), commands.StockLine("NOPE", 1)))

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.stock.receive(MANAGER, origin(), cmd)

    assert refused.value.reason == "UNKNOWN_SKU"
    assert [v.field for v in refused.value.violations] == ["lines[1].sku"]


async def test_an_adjustment_below_what_is_available_is_refused_and_changes_nothing(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.reserve((w, "A", 4))
    line = commands.AdjustmentLine("A", -2, AdjustmentReason.DAMAGE)

    with pytest.raises(InsufficientStock) as refused:
        await shop.stock.adjust(MANAGER, origin(), commands.Adjust(w, (line,)))

    assert [v.description for v in refused.value.violations] == ["requested 2, available 1"]
    assert await shop.available(w, "A") == 1


async def test_a_stock_change_counts_lapsed_holds_as_free(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.reserve((w, "A", 5), ttl=10)
    shop.clock.advance(10)
    line = commands.AdjustmentLine("A", -5, AdjustmentReason.LOSS)

    outcome = await shop.stock.adjust(MANAGER, origin(), commands.Adjust(w, (line,)))

    assert (outcome.levels[0].on_hand, outcome.levels[0].reserved) == (0, 0)


async def test_clerks_adjust_small_discrepancies_only(shop: Shop) -> None:
    w = await shop.warehouse()
    line = commands.AdjustmentLine("A", 11, AdjustmentReason.FOUND)

    with pytest.raises(errors.PermissionDenied) as refused:
        await shop.stock.adjust(CLERK, origin(CLERK), commands.Adjust(w, (line,)))

    assert refused.value.reason == "ADJUSTMENT_ABOVE_CLERK_LIMIT"


async def test_an_adjustment_names_every_bad_line(shop: Shop) -> None:
    w = await shop.warehouse()
    lines = (commands.AdjustmentLine("A", 0, None), commands.AdjustmentLine("B", 1, AdjustmentReason.OTHER))

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.stock.adjust(MANAGER, origin(), commands.Adjust(w, lines))

    assert [v.field for v in refused.value.violations] == [
        "lines[0].quantity_delta",
        "lines[0].reason",
        "lines[1].note",
    ]


async def test_a_count_sets_on_hand_and_books_the_difference(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)

    outcome = await shop.stock.count(MANAGER, origin(), commands.Count(w, (commands.CountLine("A", 3),)))

    assert [(m.type, m.quantity_delta, m.on_hand_after) for m in outcome.movements] == [
        (MovementType.CYCLE_COUNT, -2, 3)
    ]
    assert outcome.levels[0].last_count_at == shop.clock.now


async def test_a_count_below_what_is_reserved_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.reserve((w, "A", 4))

    with pytest.raises(CountBelowReserved) as refused:
        await shop.stock.count(MANAGER, origin(), commands.Count(w, (commands.CountLine("A", 3),)))

    assert [v.description for v in refused.value.violations] == ["counted 3, reserved 4"]


async def test_a_transfer_moves_stock_between_warehouses(shop: Shop) -> None:
    source, destination = await shop.warehouse(), await shop.warehouse()
    await shop.receive(source, "A", 5)

    outcome = await shop.stock.transfer(
        MANAGER, origin(), commands.Transfer(source, destination, (commands.StockLine("A", 3),))
    )

    assert [(m.type, m.warehouse_id, m.quantity_delta) for m in outcome.movements] == [
        (MovementType.TRANSFER_OUT, source, -3),
        (MovementType.TRANSFER_IN, destination, 3),
    ]
    assert (await shop.available(source, "A"), await shop.available(destination, "A")) == (2, 3)


async def test_a_transfer_to_the_same_warehouse_is_bad_input(shop: Shop) -> None:
    w = await shop.warehouse()

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.stock.transfer(MANAGER, origin(), commands.Transfer(w, w, (commands.StockLine("A", 1),)))

    assert [v.field for v in refused.value.violations] == ["destination_warehouse"]


async def test_a_return_needs_the_document_behind_it(shop: Shop) -> None:
    w = await shop.warehouse()

    with pytest.raises(errors.InvalidArgument):
        await shop.stock.return_stock(
            MANAGER, origin(), commands.Return(w, (commands.StockLine("A", 1),), " ")
        )
    returned = await shop.stock.return_stock(
        MANAGER, origin(), commands.Return(w, (commands.StockLine("A", 1),), "orders/9")
    )

    assert [(m.type, m.reference, m.on_hand_after) for m in returned.movements] == [
        (MovementType.RETURN, "orders/9", 1)
    ]


async def test_changes_to_an_archived_or_unknown_warehouse_are_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.warehouses.set_archived(MANAGER, "a-1", commands.SetArchived(w, "", archived=True))

    with pytest.raises(errors.FailedPrecondition) as archived:
        await shop.receive(w, "A", 1)
    with pytest.raises(errors.NotFound):
        await shop.receive("nope", "A", 1)

    assert archived.value.reason == "WAREHOUSE_ARCHIVED"
