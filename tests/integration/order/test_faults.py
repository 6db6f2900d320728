"""Failures between steps hold no stock: svc_stock unreachable during create,
and svc_order dying right after it reserved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from stockmesh.order.v1 import order_pb2 as pb
from tests import harness
from tests.conftest import Stacks, new_id
from tests.harness import refused
from tests.integration.order.conftest import Shop, order_stack, shop_of


@pytest.fixture
def cut_off_shop(stacks: Stacks) -> Iterator[Shop]:
    """svc_order whose svc_stock address is a closed port."""
    order = order_stack(stacks, variant="-no-stock", STOCKMESH_STOCK_ADDR=f"127.0.0.1:{harness.free_port()}")
    yield from shop_of(order, stacks)


@pytest.fixture
def crashing_shop(stacks: Stacks) -> Iterator[Shop]:
    """svc_order that exits right after svc_stock granted a reservation,
    with the shortest reservation lease svc_stock accepts."""
    order = order_stack(
        stacks,
        variant="-crash",
        STOCKMESH_ORDER_FAULT="exit-after-reserve",
        STOCKMESH_ORDER_RESERVE_LEASE_SECONDS="10",
    )
    yield from shop_of(order, stacks)


def test_unreachable_stock_is_unavailable_and_holds_nothing(cut_off_shop: Shop) -> None:
    warehouse, (sku,) = cut_off_shop.stocked(1, 5)
    got = refused(cut_off_shop.create, warehouse, [(sku, 2)])
    assert (got.code, got.reason) == (grpc.StatusCode.UNAVAILABLE, "STOCK_UNAVAILABLE")
    assert cut_off_shop.level(warehouse, sku).reserved == 0


def test_unreachable_catalog_is_unavailable_and_holds_nothing(stacks: Stacks) -> None:
    order = order_stack(
        stacks, variant="-no-catalog", STOCKMESH_CATALOG_ADDR=f"127.0.0.1:{harness.free_port()}"
    )
    shops = shop_of(order, stacks)
    shop = next(shops)
    try:
        warehouse, (sku,) = shop.stocked(1, 5)
        got = refused(shop.create, warehouse, [(sku, 2)])
        assert (got.code, got.reason) == (grpc.StatusCode.UNAVAILABLE, "CATALOG_UNAVAILABLE")
        assert shop.level(warehouse, sku).reserved == 0
    finally:
        shops.close()


def test_a_crash_after_reserving_frees_the_stock_when_the_lease_lapses(crashing_shop: Shop) -> None:
    warehouse, (sku,) = crashing_shop.stocked(1, 5)
    got = refused(crashing_shop.create, warehouse, [(sku, 3)])
    assert got.code == grpc.StatusCode.UNAVAILABLE  # the process died mid-call
    assert crashing_shop.level(warehouse, sku).reserved == 3  # held, by the short lease only

    deadline = time.monotonic() + 20
    while crashing_shop.level(warehouse, sku).reserved and time.monotonic() < deadline:
        time.sleep(0.25)
    level = crashing_shop.level(warehouse, sku)
    assert (level.on_hand, level.reserved) == (5, 0)


def test_an_import_cut_short_after_storing_is_finished_by_the_next_import(
    stacks: Stacks, tmp_path: Path
) -> None:
    crashed = order_stack(
        stacks,
        variant="-crash-store",
        STOCKMESH_ORDER_FAULT="exit-after-store",
        STOCKMESH_ORDER_RESERVE_LEASE_SECONDS="10",
    )
    shops = shop_of(crashed, stacks)
    shop = next(shops)
    try:
        warehouse, (sku,) = shop.stocked(1, 5)
        batch = pb.ImportSalesRequest(
            request_id=new_id(),
            channel=pb.SALES_CHANNEL_WEB_SHOP,
            sales=[shop.sale("web/77", warehouse, [(sku, 2)], int(time.time()) - 60)],
        )
        assert refused(shop.orders.ImportSales, batch, metadata=shop.as_role(), timeout=15).code == (
            grpc.StatusCode.UNAVAILABLE
        )
        # The same database, served again without the fault.
        env = {k: v for k, v in crashed.env.items() if k != "STOCKMESH_ORDER_FAULT"}
        revived = harness.ServiceProcess("order", tmp_path, stacks.tls_dir, crashed.database_url, env=env)
        revived.start(migrate=False)
        try:
            with revived.channel() as channel:
                shop.order_channel = channel
                batch.request_id = new_id()
                again = shop.orders.ImportSales(batch, metadata=shop.as_role(), timeout=15)
                resumed = shop.orders.GetOrder(
                    pb.GetOrderRequest(name=again.results[0].order), metadata=shop.as_role(), timeout=10
                ).order
        finally:
            revived.stop()
        assert again.results[0].outcome == pb.SALE_OUTCOME_BOOKED
        # The order stored before the crash, finished, not a second one.
        assert (resumed.number, resumed.status) == ("SO-000001", pb.ORDER_STATUS_SHIPPED)
        level = shop.level(warehouse, sku)
        assert (level.on_hand, level.reserved) == (3, 0)
    finally:
        shops.close()
