"""Sales sync: each sale of a channel's batch booked on its own as a SHIPPED
order, idempotent per (channel, external id) and per batch request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kit import errors
from svc_order import commands
from svc_order.domain import OrderStatus, Rejection, SaleOutcome, SalesChannel
from tests.unit.order.conftest import LEASE, WAREHOUSE, WHO, Shop


class Crash(BaseException):
    """The process dying between two steps: nothing after it runs."""


def sale(
    shop: Shop, external_id: str, lines: list[tuple[str, int]], *, ago: timedelta = timedelta(hours=1)
) -> commands.Sale:
    return commands.Sale(
        external_id,
        WAREHOUSE,
        tuple(commands.LineInput(s, q, None) for s, q in lines),
        shop.clock() - ago,
        "",
        "",
    )


def batch(*sales: commands.Sale, channel: SalesChannel | None = SalesChannel.POS) -> commands.ImportSales:
    return commands.ImportSales(channel, sales)


async def test_each_sale_is_booked_or_rejected_on_its_own(shop: Shop) -> None:
    results = await shop.sales.import_sales(
        WHO,
        "b-1",
        batch(
            sale(shop, "till/1", [("A", 2)]),
            sale(shop, "till/2", [("A", 1), ("B", 11)]),
            sale(shop, "till/3", [("NOPE", 1)]),
            sale(shop, "till/4", [("B", 1)], ago=-timedelta(hours=1)),
            sale(shop, "till/5", [("OLD", 1)]),
        ),
    )
    assert [(r.outcome, r.rejection) for r in results] == [
        (SaleOutcome.BOOKED, None),
        (SaleOutcome.REJECTED, Rejection.INSUFFICIENT_STOCK),
        (SaleOutcome.REJECTED, Rejection.UNKNOWN_SKU),
        (SaleOutcome.REJECTED, Rejection.INVALID_SALE),
        (SaleOutcome.REJECTED, Rejection.ARCHIVED_SKU),
    ]
    assert [(p.line_index, p.sku) for p in results[1].problems] == [(1, "B")]
    assert [(p.line_index, p.sku) for p in results[2].problems] == [(0, "NOPE")]
    booked = await shop.orders.get(WHO, results[0].order_id)
    assert (booked.status, booked.imported, booked.order_time) == (
        OrderStatus.SHIPPED,
        True,
        shop.clock() - timedelta(hours=1),
    )
    assert booked.shipment is not None
    assert booked.shipment.shipped_at == booked.order_time
    assert (shop.stock.on_hand[WAREHOUSE, "A"], shop.stock.held(WAREHOUSE, "A")) == (8, 0)


async def test_the_same_batch_replays_and_a_new_batch_reports_duplicates(shop: Shop) -> None:
    sales = batch(sale(shop, "till/1", [("A", 2)]), sale(shop, "till/2", [("NOPE", 1)]))
    first = await shop.sales.import_sales(WHO, "b-1", sales)
    assert await shop.sales.import_sales(WHO, "b-1", sales) == first

    again = await shop.sales.import_sales(WHO, "b-2", sales)
    assert [r.outcome for r in again] == [SaleOutcome.DUPLICATE, SaleOutcome.REJECTED]
    assert again[0].order_id == first[0].order_id
    assert shop.stock.on_hand[WAREHOUSE, "A"] == 8


async def test_a_malformed_batch_is_refused_whole_naming_every_violation(shop: Shop) -> None:
    one = sale(shop, "x-1", [("A", 1)])
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.sales.import_sales(WHO, "b-1", batch(one, one, sale(shop, "", [("A", 1)]), channel=None))
    assert [v.field for v in bad.value.violations] == [
        "channel",
        "sales[1].external_id",
        "sales[2].external_id",
    ]
    assert shop.stock.calls == []


async def test_an_invalid_sale_names_its_unknown_skus_too(shop: Shop) -> None:
    (result,) = await shop.sales.import_sales(
        WHO, "b-1", batch(sale(shop, "till/1", [("NOPE", 0)], ago=-timedelta(hours=1)))
    )
    assert result.rejection is Rejection.INVALID_SALE
    assert "lines[0].quantity" in result.message
    assert "sold_time" in result.message
    assert [(p.sku, p.reason) for p in result.problems] == [("NOPE", Rejection.UNKNOWN_SKU)]


async def test_an_import_cut_short_after_storing_is_finished_by_the_next_import(shop: Shop) -> None:
    def die() -> None:
        raise Crash

    shop.placement.after_store = die
    with pytest.raises(Crash):
        await shop.sales.import_sales(WHO, "b-1", batch(sale(shop, "web/77", [("A", 2)])))
    shop.placement.after_store = lambda: None
    (stored,) = shop.stored()
    assert stored.status is OrderStatus.RESERVED

    (result,) = await shop.sales.import_sales(WHO, "b-2", batch(sale(shop, "web/77", [("A", 2)])))
    assert (result.outcome, result.order_id) == (SaleOutcome.BOOKED, stored.id)
    assert [o.status for o in shop.stored()] == [OrderStatus.SHIPPED]
    assert shop.stock.on_hand[WAREHOUSE, "A"] == 8


async def test_an_interrupted_import_whose_lease_lapsed_is_booked_afresh(shop: Shop) -> None:
    def die() -> None:
        raise Crash

    shop.placement.after_store = die
    with pytest.raises(Crash):
        await shop.sales.import_sales(WHO, "b-1", batch(sale(shop, "web/77", [("A", 2)])))
    shop.placement.after_store = lambda: None
    (lapsed,) = shop.stored()
    shop.clock.advance(LEASE)

    (result,) = await shop.sales.import_sales(
        WHO, "b-2", batch(sale(shop, "web/77", [("A", 2)], ago=timedelta(0)))
    )
    assert result.outcome is SaleOutcome.BOOKED
    assert result.order_id != lapsed.id
    assert [(o.id, o.status) for o in shop.stored()] == [(result.order_id, OrderStatus.SHIPPED)]
    assert shop.stock.on_hand[WAREHOUSE, "A"] == 8


async def test_an_unreachable_stock_stops_the_batch_and_a_retry_books_it(shop: Shop) -> None:
    sales = batch(sale(shop, "till/1", [("A", 2)]))
    shop.stock.down = True
    with pytest.raises(errors.Unavailable):
        await shop.sales.import_sales(WHO, "b-1", sales)
    shop.stock.down = False
    (result,) = await shop.sales.import_sales(WHO, "b-1", sales)
    assert result.outcome is SaleOutcome.BOOKED
