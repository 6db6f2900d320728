"""A page token serves only the request it came from (AIP-158): every list of
svc_stock refuses it with other filters, naming `page_token`, and takes it
back with the same ones (page_size aside)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import pytest

from kit import errors
from kit.errors import FieldViolation
from svc_stock import commands
from svc_stock.domain import MovementType, ReservationState, WarehouseStatus
from tests.unit.stock.conftest import MANAGER, Shop

NOT_THIS_REQUEST = FieldViolation("page_token", "not a token from a previous page of this same request")


async def refused(call: Awaitable[Any]) -> None:
    with pytest.raises(errors.InvalidArgument) as refusal:
        await call
    assert refusal.value.violations == (NOT_THIS_REQUEST,)


async def test_a_stock_level_page_token_reused_with_other_skus_or_another_parent_is_refused(
    shop: Shop,
) -> None:
    w1, w2 = await shop.warehouse(), await shop.warehouse()
    for w in (w1, w2):
        for sku in ("A", "B", "C"):
            await shop.receive(w, sku, 1)

    def levels(warehouse_id: str | None, skus: tuple[str, ...], token: str = "") -> commands.ListLevels:
        return commands.ListLevels(warehouse_id, skus, 1, token)

    first = await shop.levels.list_levels(MANAGER, levels(w1, ("A", "B")))
    token = first.next_page_token

    await refused(shop.levels.list_levels(MANAGER, levels(w1, ("A", "C"), token)))
    await refused(shop.levels.list_levels(MANAGER, levels(w2, ("A", "B"), token)))
    await refused(shop.levels.list_levels(MANAGER, levels(None, ("A", "B"), token)))
    # the SKUs are a set: the same ones in another order are the same request
    rest = await shop.levels.list_levels(MANAGER, levels(w1, ("B", "A"), token))
    assert [v.sku for v in first.items + rest.items] == ["A", "B"]


async def test_a_low_stock_page_token_reused_for_another_warehouse_or_for_all_levels_is_refused(
    shop: Shop,
) -> None:
    w1, w2 = await shop.warehouse(), await shop.warehouse()
    for w in (w1, w2):
        for sku in ("A", "B"):
            await shop.receive(w, sku, 1)
            await shop.levels.set_reorder_policy(
                MANAGER, f"p-{w}-{sku}", commands.SetReorderPolicy(w, sku, 5, 10, "")
            )

    def low(warehouse_id: str, token: str = "") -> commands.ListLevels:
        return commands.ListLevels(warehouse_id, (), 1, token, low_only=True)

    first = await shop.levels.list_levels(MANAGER, low(w1))

    await refused(shop.levels.list_levels(MANAGER, low(w2, first.next_page_token)))
    # ListStockLevels of the same warehouse is another list
    await refused(shop.levels.list_levels(MANAGER, commands.ListLevels(w1, (), 1, first.next_page_token)))
    rest = await shop.levels.list_levels(MANAGER, low(w1, first.next_page_token))
    assert [(v.warehouse_id, v.sku) for v in first.items + rest.items] == [(w1, "A"), (w1, "B")]


async def test_a_movement_page_token_reused_with_another_sku_or_type_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    for sku in ("A", "A", "B"):
        await shop.receive(w, sku, 1)

    first = await shop.movements.list_movements(MANAGER, commands.ListMovements(1, "", sku="A"))
    token = first.next_page_token

    await refused(shop.movements.list_movements(MANAGER, commands.ListMovements(1, token, sku="B")))
    await refused(
        shop.movements.list_movements(
            MANAGER, commands.ListMovements(1, token, sku="A", types=(MovementType.ADJUSTMENT,))
        )
    )
    await refused(
        shop.movements.list_movements(MANAGER, commands.ListMovements(1, token, sku="A", newest_first=True))
    )
    rest = await shop.movements.list_movements(MANAGER, commands.ListMovements(5, token, sku="A"))
    assert [m.sku for m in first.items + rest.items] == ["A", "A"]
    assert rest.next_page_token == ""


async def test_a_demand_page_token_reused_with_other_skus_is_refused(shop: Shop) -> None:
    w = await shop.warehouse()
    start = shop.clock.now - timedelta(days=1)

    def demand(skus: tuple[str, ...], token: str = "") -> commands.SummarizeDemand:
        return commands.SummarizeDemand(w, start, None, skus, 1, token)

    first = await shop.movements.summarize_demand(MANAGER, demand(("A", "B")))

    await refused(shop.movements.summarize_demand(MANAGER, demand(("A", "C"), first.next_page_token)))
    rest = await shop.movements.summarize_demand(MANAGER, demand(("A", "B"), first.next_page_token))
    assert [d.sku for d in first.summaries + rest.summaries] == ["A", "B"]


async def test_a_warehouse_page_token_reused_with_another_status_is_refused(shop: Shop) -> None:
    for code in ("WA", "WB", "WC"):
        await shop.warehouse(code)

    def warehouses(status: WarehouseStatus | None, token: str = "") -> commands.ListWarehouses:
        return commands.ListWarehouses(1, token, status, "")

    first = await shop.warehouses.list_warehouses(MANAGER, warehouses(WarehouseStatus.ACTIVE))

    await refused(shop.warehouses.list_warehouses(MANAGER, warehouses(None, first.next_page_token)))
    second = await shop.warehouses.list_warehouses(
        MANAGER, warehouses(WarehouseStatus.ACTIVE, first.next_page_token)
    )
    assert [w.code for w in first.items + second.items] == ["WA", "WB"]


async def test_a_reservation_page_token_reused_for_another_warehouse_or_state_is_refused(shop: Shop) -> None:
    w1, w2 = await shop.warehouse(), await shop.warehouse()
    for w in (w1, w2):
        await shop.receive(w, "A", 5)
    made = [(await shop.reserve((w1, "A", 1))).reservation for _ in range(2)]
    await shop.reserve((w2, "A", 1))

    def reservations(
        warehouse_id: str, token: str = "", state: ReservationState | None = None
    ) -> commands.ListReservations:
        return commands.ListReservations(1, token, state, "", warehouse_id, "")

    first = await shop.reservations.list_reservations(MANAGER, reservations(w1))
    token = first.next_page_token

    await refused(shop.reservations.list_reservations(MANAGER, reservations(w2, token)))
    await refused(
        shop.reservations.list_reservations(MANAGER, reservations(w1, token, ReservationState.ACTIVE))
    )
    rest = await shop.reservations.list_reservations(MANAGER, reservations(w1, token))
    assert {r.id for r in first.items + rest.items} == {r.id for r in made}
