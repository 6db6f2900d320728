"""Creating an order: request checks naming every violation, the catalog's
price snapshot, and svc_stock's hold taken short, then extended."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from kit import errors
from svc_order import commands, domain
from svc_order.domain import Money, OrderStatus, SalesChannel
from tests.unit.order.conftest import LEASE, WAREHOUSE, WHO, Shop, eur


async def test_an_order_snapshots_prices_and_holds_its_lines_until_the_hold_ends(shop: Shop) -> None:
    order = await shop.create([("A", 3), ("B", 2)], customer="crm-42")

    assert (order.status, order.number, order.customer) == (OrderStatus.RESERVED, 1, "crm-42")
    assert [(line.sku, line.description, line.unit_price) for line in order.lines] == [
        ("A", "Shoe, A", eur(5)),
        ("B", "Shoe, B", eur(2, 500_000_000)),
    ]
    assert order.total == eur(20)
    assert order.hold_expire_at == shop.clock() + domain.DEFAULT_HOLD
    hold = shop.stock.holds[order.reservation_id]
    assert (hold.lines, hold.expire_at) == ((("A", 3), ("B", 2)), order.hold_expire_at)
    assert shop.stock.calls == ["reserve", "extend"]
    assert shop.stored() == [order]


async def test_numbers_count_up_per_tenant(shop: Shop) -> None:
    first = await shop.create([("A", 1)], request_id="r-1")
    second = await shop.create([("A", 1)], request_id="r-2")
    assert (first.number, second.number) == (1, 2)


async def test_a_repeated_request_id_returns_the_first_order_and_reserves_nothing_more(shop: Shop) -> None:
    first = await shop.create([("A", 2)], request_id="same")
    again = await shop.create([("A", 2)], request_id="same")

    assert again == first
    assert shop.stock.calls == ["reserve", "extend"]
    assert shop.stock.held(WAREHOUSE, "A") == 2
    assert len(shop.stored()) == 1


async def test_a_request_id_used_for_another_order_is_refused(shop: Shop) -> None:
    await shop.create([("A", 2)], request_id="same")
    with pytest.raises(errors.InvalidArgument) as reused:
        await shop.create([("A", 3)], request_id="same")
    assert reused.value.reason == "REQUEST_ID_REUSED"
    assert shop.stock.held(WAREHOUSE, "A") == 2


async def test_bad_input_names_every_violation_at_once_the_unknown_warehouse_too(shop: Shop) -> None:
    cmd = shop.order_command([("A", 0)], warehouse="nowhere", channel=None)
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.orders.create(WHO, "req-1", cmd)

    assert [v.field for v in bad.value.violations] == [
        "order.channel",
        "order.lines[0].quantity",
        "order.warehouse",
    ]
    assert bad.value.violations[-1].description == "no such warehouse"
    assert (shop.catalog.asked, shop.stored()) == ([], [])
    assert "reserve" not in shop.stock.calls


async def test_a_known_warehouse_is_not_named_among_the_violations(shop: Shop) -> None:
    cmd = shop.order_command([("A", 1), ("A", 1)], hold=timedelta(seconds=5), customer="x" * 201)
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.orders.create(WHO, "req-1", cmd)
    assert [v.field for v in bad.value.violations] == [
        "order.lines[1].sku",
        "order.hold_duration",
        "order.customer",
    ]


async def test_an_unreachable_stock_does_not_hide_the_violations_known_already(shop: Shop) -> None:
    shop.stock.down = True
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.orders.create(WHO, "req-1", shop.order_command([("A", 0)]))
    assert [v.field for v in bad.value.violations] == ["order.lines[0].quantity"]


async def test_unknown_skus_are_refused_naming_each_line_and_an_unknown_warehouse(shop: Shop) -> None:
    with pytest.raises(errors.InvalidArgument) as unknown:
        await shop.create([("A", 1), ("NOPE-1", 1)])
    assert unknown.value.reason == "UNKNOWN_SKU"
    assert [v.field for v in unknown.value.violations] == ["order.lines[1].sku"]

    with pytest.raises(errors.InvalidArgument) as both:
        await shop.create([("NOPE-1", 1)], warehouse="nowhere")
    assert [v.field for v in both.value.violations] == ["order.lines[0].sku", "order.warehouse"]
    assert shop.stock.holds == {}


async def test_an_unknown_warehouse_refused_by_the_reservation_names_the_field(shop: Shop) -> None:
    with pytest.raises(errors.InvalidArgument) as unknown:
        await shop.create([("A", 1)], warehouse="nowhere")
    assert unknown.value.reason == "UNKNOWN_WAREHOUSE"
    assert [(v.field, v.description) for v in unknown.value.violations] == [
        ("order.warehouse", "no such warehouse")
    ]
    assert shop.stored() == []


async def test_archived_skus_and_mixed_currencies_are_refused_and_hold_nothing(shop: Shop) -> None:
    with pytest.raises(errors.FailedPrecondition) as archived:
        await shop.create([("A", 1), ("OLD", 1)])
    assert (archived.value.reason, [v.subject for v in archived.value.violations]) == (
        "SKU_ARCHIVED",
        ["OLD"],
    )

    with pytest.raises(errors.FailedPrecondition) as mixed:
        await shop.create([("A", 1), ("USD", 1)])
    assert mixed.value.reason == "MIXED_CURRENCIES"
    assert (shop.stock.holds, shop.stored()) == ({}, [])


async def test_a_charged_price_must_be_zero_or_more_in_the_list_currency(shop: Shop) -> None:
    lines = (
        commands.LineInput("A", 1, Money("USD", 1, 0)),
        commands.LineInput("B", 1, eur(-1)),
    )
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.orders.create(WHO, "req-1", dataclasses.replace(shop.order_command([]), lines=lines))
    assert [v.field for v in bad.value.violations] == [
        "order.lines[0].unit_price",
        "order.lines[1].unit_price",
    ]

    cheap = await shop.orders.create(
        WHO,
        "req-2",
        dataclasses.replace(shop.order_command([]), lines=(commands.LineInput("A", 3, eur(0, 100_000_000)),)),
    )
    assert (cheap.lines[0].list_price, cheap.total) == (eur(5), eur(0, 300_000_000))


async def test_short_stock_names_the_short_lines_and_stores_nothing(shop: Shop) -> None:
    with pytest.raises(errors.FailedPrecondition) as short:
        await shop.create([("A", 1), ("B", 11)])
    assert short.value.reason == "INSUFFICIENT_STOCK"
    assert [v.subject for v in short.value.violations] == [f"warehouses/{WAREHOUSE}/stockLevels/B"]
    assert (shop.stored(), shop.stock.held(WAREHOUSE, "A")) == ([], 0)


async def test_an_external_id_is_unique_per_channel(shop: Shop) -> None:
    first = await shop.create([("A", 1)], request_id="r-1", external_id="web-1")
    with pytest.raises(errors.AlreadyExists) as duplicate:
        await shop.create([("A", 1)], request_id="r-2", external_id="web-1")
    assert duplicate.value.reason == "DUPLICATE_EXTERNAL_ID"
    assert duplicate.value.metadata["order"] == f"orders/{first.id}"

    other = await shop.create([("A", 1)], request_id="r-3", external_id="web-1", channel=SalesChannel.PHONE)
    assert other.external_id == "web-1"


async def test_an_order_stored_first_with_the_same_external_id_releases_this_hold(shop: Shop) -> None:
    def stored_meanwhile() -> None:
        line = domain.Line("A", 1, "Shoe, A", eur(5), eur(5))
        now = shop.clock()
        rival = domain.new_order(
            "o-rival", WHO, SalesChannel.WEB_SHOP, "web-1", "", WAREHOUSE, (line,), "", now, now
        )
        shop.memory.state.orders[WHO.tenant_id, rival.id] = rival

    shop.placement.after_reserve = stored_meanwhile
    with pytest.raises(errors.AlreadyExists):
        await shop.create([("A", 2)], external_id="web-1")
    assert shop.stock.held(WAREHOUSE, "A") == 0
    assert [o.id for o in shop.stored()] == ["o-rival"]


async def test_a_failed_extension_removes_the_order_releases_and_frees_the_request_id(shop: Shop) -> None:
    shop.stock.failing["extend"] = errors.Unavailable("down", reason="STOCK_UNAVAILABLE")
    with pytest.raises(errors.Unavailable):
        await shop.create([("A", 2)], request_id="same")
    assert (shop.stored(), shop.stock.held(WAREHOUSE, "A")) == ([], 0)
    assert [h.state for h in shop.stock.holds.values()] == ["released"]

    del shop.stock.failing["extend"]
    again = await shop.create([("A", 2)], request_id="same")
    assert shop.stored() == [again]
    assert shop.stock.held(WAREHOUSE, "A") == 2


async def test_the_lease_holds_only_until_the_order_is_stored(shop: Shop) -> None:
    shop.stock.failing["extend"] = errors.Unavailable("down", reason="STOCK_UNAVAILABLE")
    shop.stock.failing["release"] = errors.Unavailable("down", reason="STOCK_UNAVAILABLE")
    with pytest.raises(errors.Unavailable):
        await shop.create([("A", 2)])
    assert shop.stock.held(WAREHOUSE, "A") == 2  # the compensation could not reach svc_stock
    shop.clock.advance(LEASE)
    assert shop.stock.held(WAREHOUSE, "A") == 0


async def test_an_unreachable_catalog_is_unavailable_and_holds_nothing(shop: Shop) -> None:
    shop.catalog.down = True
    with pytest.raises(errors.Unavailable) as down:
        await shop.create([("A", 1)])
    assert down.value.reason == "CATALOG_UNAVAILABLE"
    assert (shop.stock.holds, shop.stored()) == ({}, [])
