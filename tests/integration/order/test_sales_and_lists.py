"""Sales sync and listing: a channel's batch booked once, per-sale outcomes,
filters over what was booked."""

from __future__ import annotations

import time

from stockmesh.order.v1 import order_pb2 as pb
from tests.conftest import new_id
from tests.harness import refused
from tests.integration.order.conftest import Shop


def test_a_sales_batch_sent_twice_books_once(shop: Shop) -> None:
    warehouse, (a, b) = shop.stocked(2, 5)
    sold = int(time.time()) - 3600
    batch = pb.ImportSalesRequest(
        request_id=new_id(),
        channel=pb.SALES_CHANNEL_POS,
        sales=[
            shop.sale("till-1/0001", warehouse, [(a, 2)], sold),
            shop.sale("till-1/0002", warehouse, [(a, 1), (b, 9)], sold),  # b is short
            shop.sale("till-1/0003", warehouse, [("NOPE-9", 1)], sold),
            shop.sale("till-1/0004", warehouse, [(b, 1)], sold + 7200),  # in the future
        ],
    )
    first = shop.orders.ImportSales(batch, metadata=shop.as_role(), timeout=30)
    outcomes = [(r.outcome, r.rejection_reason) for r in first.results]
    assert outcomes == [
        (pb.SALE_OUTCOME_BOOKED, 0),
        (pb.SALE_OUTCOME_REJECTED, pb.SALE_REJECTION_REASON_INSUFFICIENT_STOCK),
        (pb.SALE_OUTCOME_REJECTED, pb.SALE_REJECTION_REASON_UNKNOWN_SKU),
        (pb.SALE_OUTCOME_REJECTED, pb.SALE_REJECTION_REASON_INVALID_SALE),
    ]
    assert (first.booked_count, first.duplicate_count, first.rejected_count) == (1, 0, 3)
    assert [(p.line_index, p.sku) for p in first.results[1].line_problems] == [(1, b)]
    assert [(p.line_index, p.sku) for p in first.results[2].line_problems] == [(0, "NOPE-9")]
    level = shop.level(warehouse, a)
    assert (level.on_hand, level.reserved) == (3, 0)

    booked = shop.orders.GetOrder(
        pb.GetOrderRequest(name=first.results[0].order), metadata=shop.as_role(), timeout=10
    ).order
    assert booked.status == pb.ORDER_STATUS_SHIPPED
    assert booked.order_time.seconds == sold
    assert booked.shipment.ship_time.seconds == sold

    repeat = shop.orders.ImportSales(batch, metadata=shop.as_role(), timeout=30)
    assert repeat == first  # the same request_id: the first answer

    batch.request_id = new_id()  # the same sales sent again as a new batch
    again = shop.orders.ImportSales(batch, metadata=shop.as_role(), timeout=30)
    assert again.results[0].outcome == pb.SALE_OUTCOME_DUPLICATE
    assert again.results[0].order == first.results[0].order
    assert (again.booked_count, again.duplicate_count, again.rejected_count) == (0, 1, 3)
    assert shop.level(warehouse, a).on_hand == 3


def test_a_malformed_batch_is_refused_whole(shop: Shop) -> None:
    warehouse, (a,) = shop.stocked(1, 5)
    sale = shop.sale("x-1", warehouse, [(a, 1)], int(time.time()) - 60)
    got = refused(
        shop.orders.ImportSales,
        pb.ImportSalesRequest(request_id=new_id(), channel=pb.SALES_CHANNEL_POS, sales=[sale, sale]),
        metadata=shop.as_role(),
        timeout=10,
    )
    assert list(got.field_violations) == ["sales[1].external_id"]
    assert shop.level(warehouse, a).on_hand == 5


def test_lists_filter_and_page_newest_first(shop: Shop) -> None:
    warehouse, (a, b) = shop.stocked(2, 20)
    first = shop.create(warehouse, [(a, 1)], customer="c-1")
    second = shop.create(warehouse, [(b, 1)], customer="c-2")
    third = shop.create(warehouse, [(a, 1), (b, 1)], customer="c-1")
    shop.orders.CancelOrder(
        pb.CancelOrderRequest(request_id=new_id(), name=third.name), metadata=shop.as_role(), timeout=15
    )

    def names(**query: object) -> list[str]:
        request = pb.ListOrdersRequest(**query)  # type: ignore[arg-type]
        return [o.name for o in shop.orders.ListOrders(request, metadata=shop.as_role(), timeout=10).orders]

    assert names() == [third.name, second.name, first.name]
    assert names(sku=a) == [third.name, first.name]
    assert names(customer="c-2") == [second.name]
    assert names(statuses=[pb.ORDER_STATUS_CANCELLED]) == [third.name]
    assert names(statuses=[pb.ORDER_STATUS_RESERVED], warehouse=warehouse) == [second.name, first.name]
    page = shop.orders.ListOrders(pb.ListOrdersRequest(page_size=2), metadata=shop.as_role(), timeout=10)
    rest = shop.orders.ListOrders(
        pb.ListOrdersRequest(page_size=2, page_token=page.next_page_token),
        metadata=shop.as_role(),
        timeout=10,
    )
    assert [o.name for o in [*page.orders, *rest.orders]] == [third.name, second.name, first.name]
    assert rest.next_page_token == ""
