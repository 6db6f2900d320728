"""After an order is placed: read, cancel (releases), ship (commits), the
sweep of lapsed holds, and lists paged newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kit import errors
from svc_order import commands
from svc_order.domain import OrderStatus, SalesChannel
from svc_order.usecases.orders import order_etag
from tests.unit.order.conftest import STRANGER, WAREHOUSE, WHO, Shop


def listing(page_size: int = 0, page_token: str = "", **narrowed: object) -> commands.ListOrders:
    values: dict[str, object] = {
        "statuses": (),
        "channel": None,
        "customer": "",
        "warehouse_id": "",
        "external_id": "",
        "sku": "",
        "start": None,
        "end": None,
    }
    values.update(narrowed)
    return commands.ListOrders(page_size, page_token, **values)  # type: ignore[arg-type]


async def test_cancel_releases_the_hold_and_keeps_the_reason(shop: Shop) -> None:
    order = await shop.create([("A", 4)])
    cancel = commands.CancelOrder(order.id, "customer called", order_etag(order))
    cancelled = await shop.orders.cancel(WHO, "c-1", cancel)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.version) == (
        OrderStatus.CANCELLED,
        "customer called",
        order.version + 1,
    )
    assert cancelled.cancelled_at == shop.clock()
    assert shop.stock.held(WAREHOUSE, "A") == 0

    again = await shop.orders.cancel(WHO, "c-1", cancel)
    assert again == cancelled  # replayed, not cancelled twice
    assert shop.stock.calls.count("release") == 1


async def test_a_stale_etag_is_refused_and_changes_nothing(shop: Shop) -> None:
    order = await shop.create([("A", 1)])
    await shop.orders.cancel(WHO, "c-1", commands.CancelOrder(order.id, "", ""))
    with pytest.raises(errors.Aborted):
        await shop.orders.ship(WHO, "s-1", commands.ShipOrder(order.id, "", "", order_etag(order)))
    assert (await shop.orders.get(WHO, order.id)).status is OrderStatus.CANCELLED


async def test_a_cancelled_order_cannot_ship_nor_a_shipped_one_be_cancelled(shop: Shop) -> None:
    cancelled = await shop.create([("A", 1)], request_id="r-1")
    await shop.orders.cancel(WHO, "c-1", commands.CancelOrder(cancelled.id, "", ""))
    with pytest.raises(errors.FailedPrecondition) as ship:
        await shop.ship(cancelled)
    assert ship.value.reason == "INVALID_STATE_TRANSITION"

    shipped = await shop.ship(await shop.create([("A", 1)], request_id="r-2"), request_id="s-2")
    with pytest.raises(errors.FailedPrecondition) as cancel:
        await shop.orders.cancel(WHO, "c-2", commands.CancelOrder(shipped.id, "", ""))
    assert cancel.value.reason == "INVALID_STATE_TRANSITION"
    assert shop.stock.calls.count("release") == 1


async def test_ship_commits_the_hold_and_marks_every_line_shipped(shop: Shop) -> None:
    order = await shop.create([("A", 3), ("B", 2)])
    shipped = await shop.ship(order)
    assert shipped.status is OrderStatus.SHIPPED
    assert shipped.shipment is not None
    assert shipped.shipment.carrier == "DHL"
    assert [line.shipped_quantity for line in shipped.lines] == [3, 2]
    assert (shop.stock.on_hand[WAREHOUSE, "A"], shop.stock.held(WAREHOUSE, "A")) == (7, 0)

    assert await shop.ship(order) == shipped  # the same request: replayed
    assert shop.stock.calls.count("commit") == 1


async def test_shipping_after_the_hold_lapsed_is_order_expired(shop: Shop) -> None:
    order = await shop.create([("A", 1)], hold=timedelta(minutes=5))
    shop.clock.advance(timedelta(minutes=5))
    with pytest.raises(errors.FailedPrecondition) as lapsed:
        await shop.ship(order)
    assert lapsed.value.reason == "ORDER_EXPIRED"


async def test_shipping_a_reservation_svc_stock_ended_is_order_expired_and_changes_nothing(
    shop: Shop,
) -> None:
    order = await shop.create([("A", 1)])
    shop.stock.holds[order.reservation_id].state = "released"
    with pytest.raises(errors.FailedPrecondition) as ended:
        await shop.ship(order)
    assert ended.value.reason == "ORDER_EXPIRED"
    assert (await shop.orders.get(WHO, order.id)) == order


async def test_a_long_carrier_and_tracking_number_are_both_named(shop: Shop) -> None:
    order = await shop.create([("A", 1)])
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.orders.ship(WHO, "s-1", commands.ShipOrder(order.id, "c" * 101, "t" * 101, ""))
    assert [v.field for v in bad.value.violations] == ["carrier", "tracking_number"]


async def test_another_tenant_neither_reads_nor_changes_an_order(shop: Shop) -> None:
    order = await shop.create([("A", 1)])
    with pytest.raises(errors.NotFound):
        await shop.orders.get(STRANGER, order.id)
    with pytest.raises(errors.NotFound):
        await shop.orders.cancel(STRANGER, "c-1", commands.CancelOrder(order.id, "", ""))
    assert (await shop.orders.list_orders(STRANGER, listing())).items == []


async def test_a_lapsed_hold_reads_expired_and_the_sweep_marks_it(shop: Shop) -> None:
    order = await shop.create([("A", 1)], hold=timedelta(minutes=5))
    shop.clock.advance(timedelta(minutes=5))
    seen = await shop.orders.get(WHO, order.id)
    assert (seen.status, seen.cancelled_at) == (OrderStatus.EXPIRED, order.hold_expire_at)
    expired = await shop.orders.list_orders(WHO, listing(statuses=(OrderStatus.EXPIRED,)))
    assert [o.id for o in expired.items] == [order.id]
    assert (await shop.orders.list_orders(WHO, listing(statuses=(OrderStatus.RESERVED,)))).items == []

    assert await shop.orders.sweep() == 1
    swept = shop.stored()[0]
    assert (swept.status, swept.version) == (OrderStatus.EXPIRED, order.version + 1)
    assert await shop.orders.sweep() == 0


async def test_lists_page_newest_first_and_filter(shop: Shop) -> None:
    made = []
    for i, (sku, channel) in enumerate(
        [("A", SalesChannel.POS), ("B", SalesChannel.POS), ("A", SalesChannel.PHONE)]
    ):
        made.append(await shop.create([(sku, 1)], request_id=f"r-{i}", channel=channel))
        shop.clock.advance(timedelta(seconds=1))

    first = await shop.orders.list_orders(WHO, listing(page_size=2))
    assert [o.id for o in first.items] == [made[2].id, made[1].id]
    rest = await shop.orders.list_orders(WHO, listing(page_size=2, page_token=first.next_page_token))
    assert ([o.id for o in rest.items], rest.next_page_token) == ([made[0].id], "")

    by_sku = await shop.orders.list_orders(WHO, listing(sku="A", channel=SalesChannel.POS))
    assert [o.id for o in by_sku.items] == [made[0].id]
    with pytest.raises(errors.InvalidArgument):
        await shop.orders.list_orders(WHO, listing(page_token="bm90IG91cnM="))


async def test_a_page_token_reused_with_other_filters_is_refused(shop: Shop) -> None:
    made = []
    for i, channel in enumerate([SalesChannel.POS, SalesChannel.POS, SalesChannel.PHONE]):
        made.append(await shop.create([("A", 1)], request_id=f"r-{i}", channel=channel))
        shop.clock.advance(timedelta(seconds=1))
    first = await shop.orders.list_orders(WHO, listing(page_size=1, channel=SalesChannel.POS))

    for other in [{"channel": SalesChannel.PHONE}, {"channel": SalesChannel.POS, "sku": "B"}, {}]:
        with pytest.raises(errors.InvalidArgument) as refused:
            await shop.orders.list_orders(
                WHO, listing(page_size=1, page_token=first.next_page_token, **other)
            )
        assert [v.field for v in refused.value.violations] == ["page_token"]
    rest = await shop.orders.list_orders(
        WHO, listing(page_size=5, page_token=first.next_page_token, channel=SalesChannel.POS)
    )
    assert [o.id for o in first.items + rest.items] == [made[1].id, made[0].id]
