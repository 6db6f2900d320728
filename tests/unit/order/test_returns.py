"""Returns: goods back from a shipped order, booked at svc_stock once, now or
by the booking loop when svc_stock was away."""

from __future__ import annotations

import pytest

from kit import errors
from svc_order import commands
from svc_order.domain import Order, OrderStatus, ReturnReason, ReturnState
from svc_order.usecases.orders import order_etag
from tests.unit.order.conftest import WAREHOUSE, WHO, Shop, eur


def give_back(order: Order, lines: list[tuple[str, int]], **fields: object) -> commands.ReturnOrder:
    values: dict[str, object] = {"reason": ReturnReason.UNWANTED, "note": "", "warehouse_id": "", "etag": ""}
    values.update(fields)
    return commands.ReturnOrder(order.id, tuple(lines), **values)  # type: ignore[arg-type]


async def shipped(shop: Shop) -> Order:
    return await shop.ship(await shop.create([("A", 3), ("B", 1)]))


async def test_a_return_books_the_goods_back_and_the_order_moves_to_partly_then_fully_returned(
    shop: Shop,
) -> None:
    order = await shipped(shop)
    booked, after = await shop.returns.return_order(WHO, "back-1", give_back(order, [("A", 2)]))
    assert (booked.state, booked.total, len(booked.stock_movements)) == (ReturnState.BOOKED, eur(10), 1)
    assert booked.warehouse_id == WAREHOUSE
    assert (after.status, after.returned_total) == (OrderStatus.PARTIALLY_RETURNED, eur(10))
    assert [line.returned_quantity for line in after.lines] == [2, 0]
    assert shop.stock.on_hand[WAREHOUSE, "A"] == 9

    _, done = await shop.returns.return_order(WHO, "back-2", give_back(after, [("A", 1), ("B", 1)]))
    assert done.status is OrderStatus.RETURNED


async def test_a_repeated_return_request_books_once(shop: Shop) -> None:
    order = await shipped(shop)
    first = await shop.returns.return_order(WHO, "back-1", give_back(order, [("A", 1)]))
    again = await shop.returns.return_order(WHO, "back-1", give_back(order, [("A", 1)]))
    assert again == first
    assert (len(shop.stock.returned), shop.stock.on_hand[WAREHOUSE, "A"]) == (1, 8)


async def test_returning_more_than_shipped_is_over_return_and_changes_nothing(shop: Shop) -> None:
    order = await shipped(shop)
    with pytest.raises(errors.FailedPrecondition) as over:
        await shop.returns.return_order(WHO, "back-1", give_back(order, [("A", 4)]))
    assert (over.value.reason, [v.subject for v in over.value.violations]) == ("OVER_RETURN", ["A"])
    assert (await shop.orders.get(WHO, order.id)) == order


async def test_lines_not_of_the_order_are_each_named(shop: Shop) -> None:
    order = await shipped(shop)
    with pytest.raises(errors.InvalidArgument) as strangers:
        await shop.returns.return_order(WHO, "back-1", give_back(order, [("X", 1), ("A", 1), ("Y", 1)]))
    assert [v.field for v in strangers.value.violations] == ["lines[0].sku", "lines[2].sku"]


async def test_bad_input_names_every_violation_at_once(shop: Shop) -> None:
    order = await shipped(shop)
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.returns.return_order(
            WHO, "back-1", give_back(order, [("A", 0)], reason=None, warehouse_id="w" * 37)
        )
    assert [v.field for v in bad.value.violations] == ["reason", "lines[0].quantity", "warehouse"]


async def test_only_a_shipped_order_takes_goods_back_and_a_stale_etag_is_refused(shop: Shop) -> None:
    reserved = await shop.create([("A", 1)], request_id="r-2")
    with pytest.raises(errors.FailedPrecondition) as early:
        await shop.returns.return_order(WHO, "back-1", give_back(reserved, [("A", 1)]))
    assert early.value.reason == "INVALID_STATE_TRANSITION"

    order = await shipped(shop)
    with pytest.raises(errors.Aborted):
        await shop.returns.return_order(
            WHO, "back-2", give_back(order, [("A", 1)], etag=order_etag(reserved))
        )


async def test_a_return_into_an_unknown_warehouse_is_refused_and_records_nothing(shop: Shop) -> None:
    order = await shipped(shop)
    with pytest.raises(errors.InvalidArgument) as unknown:
        await shop.returns.return_order(WHO, "back-1", give_back(order, [("A", 1)], warehouse_id="nowhere"))
    assert [v.field for v in unknown.value.violations] == ["warehouse"]
    assert (await shop.orders.get(WHO, order.id)) == order


async def test_a_return_while_stock_is_down_stays_pending_and_the_loop_books_it_once(shop: Shop) -> None:
    order = await shipped(shop)
    shop.stock.down = True
    pending, _ = await shop.returns.return_order(WHO, "back-1", give_back(order, [("A", 1)]))
    assert pending.state is ReturnState.PENDING
    assert await shop.returns.book_pending() == 0  # still down: deferred

    shop.stock.down = False
    assert await shop.returns.book_pending() == 1
    assert await shop.returns.book_pending() == 0
    booked = (await shop.orders.get(WHO, order.id)).returns[0]
    assert (booked.state, booked.booked_at, len(booked.stock_movements)) == (
        ReturnState.BOOKED,
        shop.clock(),
        1,
    )
    assert shop.stock.on_hand[WAREHOUSE, "A"] == 8
