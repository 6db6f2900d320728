"""Levels read and listed, reorder policies, the ledger read, demand and
reconciliation."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from kit import errors
from svc_stock import commands
from svc_stock.domain import MovementType
from svc_stock.usecases import reconciliation
from svc_stock.usecases.levels import level_etag
from tests.unit.stock.conftest import CLERK, MANAGER, Shop, origin


async def test_a_known_sku_never_held_reads_as_zeros(shop: Shop) -> None:
    w = await shop.warehouse()

    level = await shop.levels.get_level(MANAGER, w, "C")

    assert (level.on_hand, level.reserved, level.version) == (0, 0, 0)


async def test_a_sku_the_catalog_does_not_know_is_not_found(shop: Shop) -> None:
    w = await shop.warehouse()

    with pytest.raises(errors.NotFound) as refused:
        await shop.levels.get_level(MANAGER, w, "NOPE")

    assert refused.value.name == f"warehouses/{w}/stockLevels/NOPE"


async def test_a_level_in_an_unknown_warehouse_is_not_found(shop: Shop) -> None:
    with pytest.raises(errors.NotFound) as refused:
        await shop.levels.get_level(MANAGER, "nope", "A")

    assert refused.value.resource_type == "warehouse"


async def test_a_lapsed_hold_reads_as_free_stock_before_any_sweep(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 5)
    await shop.reserve((w, "A", 2), ttl=10)
    shop.clock.advance(10)

    level = await shop.levels.get_level(MANAGER, w, "A")

    assert (level.reserved, level.available) == (0, 5)


async def test_levels_are_listed_in_pages(shop: Shop) -> None:
    w = await shop.warehouse()
    for sku in ("A", "B", "C"):
        await shop.receive(w, sku, 1)

    first = await shop.levels.list_levels(MANAGER, commands.ListLevels(w, (), 2, ""))
    second = await shop.levels.list_levels(MANAGER, commands.ListLevels(w, (), 2, first.next_page_token))

    assert [v.sku for v in first.items] == ["A", "B"]
    assert ([v.sku for v in second.items], second.next_page_token) == (["C"], "")


async def test_low_stock_lists_the_levels_at_or_below_their_reorder_point(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 2)
    await shop.receive(w, "B", 9)
    for sku in ("A", "B"):
        await shop.levels.set_reorder_policy(
            MANAGER, f"p-{sku}", commands.SetReorderPolicy(w, sku, 3, 10, "")
        )

    low = await shop.levels.list_levels(MANAGER, commands.ListLevels(None, (), 10, "", low_only=True))

    assert [v.sku for v in low.items] == ["A"]


async def test_a_reorder_policy_with_a_stale_etag_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    before = (await shop.receive(w, "A", 2)).levels[0]
    await shop.receive(w, "A", 1)

    with pytest.raises(errors.EtagMismatch):
        await shop.levels.set_reorder_policy(
            MANAGER, "p-1", commands.SetReorderPolicy(w, "A", 1, 5, level_etag(before))
        )


async def test_movements_are_listed_in_pages_oldest_or_newest_first(shop: Shop) -> None:
    w = await shop.warehouse()
    for quantity in (1, 2, 3):
        await shop.receive(w, "A", quantity)

    first = await shop.movements.list_movements(MANAGER, commands.ListMovements(2, ""))
    rest = await shop.movements.list_movements(MANAGER, commands.ListMovements(2, first.next_page_token))
    newest = await shop.movements.list_movements(MANAGER, commands.ListMovements(1, "", newest_first=True))

    assert [m.quantity_delta for m in first.items + rest.items] == [1, 2, 3]
    assert rest.next_page_token == ""
    assert [m.quantity_delta for m in newest.items] == [3]
    assert await shop.movements.get_movement(MANAGER, newest.items[0].id) == newest.items[0]


async def test_demand_sums_the_shipments_and_returns_of_the_window(shop: Shop) -> None:
    w = await shop.warehouse()
    start = shop.clock.now
    await shop.receive(w, "A", 10)
    for quantity in (2, 3):
        held = (await shop.reserve((w, "A", quantity))).reservation
        await shop.reservations.commit(CLERK, origin(CLERK), commands.Commit(held.id, None, ""))
    await shop.stock.return_stock(MANAGER, origin(), commands.Return(w, (commands.StockLine("A", 1),), "o-1"))
    shop.clock.advance(60)

    page = await shop.movements.summarize_demand(
        MANAGER, commands.SummarizeDemand(w, start, None, ("A", "B"), 10, "")
    )

    assert [(d.sku, d.sums.shipped, d.sums.returned, d.sums.shipments) for d in page.summaries] == [
        ("A", 5, 1, 2),
        ("B", 0, 0, 0),
    ]


async def test_a_demand_window_longer_than_400_days_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    start = shop.clock.now - timedelta(days=401)

    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.movements.summarize_demand(MANAGER, commands.SummarizeDemand(w, start, None, (), 10, ""))

    assert [v.field for v in refused.value.violations] == ["start_time"]


async def test_reconciliation_finds_no_drift_after_every_kind_of_change(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 10)
    held = (await shop.reserve((w, "A", 4))).reservation
    await shop.reserve((w, "A", 2), ttl=10)
    await shop.reservations.commit(CLERK, origin(CLERK), commands.Commit(held.id, None, ""))
    shop.clock.advance(10)
    await shop.reserve((w, "A", 6))

    report = await shop.levels.reconcile(MANAGER, None)

    assert (report.checked, report.drifts) == (1, [])
    assert report.ledger_sequence == len(
        (await shop.movements.list_movements(MANAGER, commands.ListMovements(100, ""))).items
    )
    expired = commands.ListMovements(100, "", types=(MovementType.EXPIRE,))
    assert len((await shop.movements.list_movements(MANAGER, expired)).items) == 1


async def test_reconciliation_reads_slice_by_slice_and_reports_in_warehouse_then_sku_order(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconciliation, "SLICE", 2)  # three SKUs: two slices per warehouse
    first, second = sorted([await shop.warehouse(), await shop.warehouse()])
    for w in (second, first):
        for sku in ("C", "A", "B"):
            await shop.receive(w, sku, 5)
    state = shop.memory.state
    for w, sku in ((second, "A"), (first, "C"), (first, "A")):
        key = (MANAGER.tenant_id, w, sku)
        state.levels[key] = dataclasses.replace(state.levels[key], on_hand=7)

    report = await shop.levels.reconcile(MANAGER, None)

    assert report.checked == 6
    assert [(d.warehouse_id, d.sku, d.expected, d.actual) for d in report.drifts] == [
        (first, "A", 5, 7),
        (first, "C", 5, 7),
        (second, "A", 5, 7),
    ]


async def test_reconciliation_keeps_the_first_drifts_and_says_it_found_more(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconciliation, "MAX_DRIFTS", 2)
    w = await shop.warehouse()
    for sku in ("A", "B", "C"):
        await shop.receive(w, sku, 5)
        key = (MANAGER.tenant_id, w, sku)
        shop.memory.state.levels[key] = dataclasses.replace(shop.memory.state.levels[key], on_hand=9)

    report = await shop.levels.reconcile(MANAGER, w)

    assert ([d.sku for d in report.drifts], report.truncated) == (["A", "B"], True)
