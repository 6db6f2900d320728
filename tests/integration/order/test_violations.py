"""Bad input is refused naming every violation at once, the warehouse as
svc_stock knows it among them, and holds nothing."""

from __future__ import annotations

import uuid

import grpc

from stockmesh.order.v1 import order_pb2 as pb
from tests.conftest import new_id
from tests.harness import refused
from tests.integration.order.conftest import Shop


def test_an_order_with_an_unknown_warehouse_no_channel_and_quantity_0_names_all_three(shop: Shop) -> None:
    warehouse, (sku,) = shop.stocked(1, 5)
    order = pb.Order(
        warehouse=f"warehouses/{uuid.uuid4()}", lines=[pb.OrderLine(sku=sku, quantity=0)]
    )  # no channel
    got = refused(
        shop.orders.CreateOrder,
        pb.CreateOrderRequest(request_id=new_id(), order=order),
        metadata=shop.as_role(),
        timeout=15,
    )
    assert got.code == grpc.StatusCode.INVALID_ARGUMENT
    assert got.field_violations == {
        "order.channel": "required",
        "order.lines[0].quantity": "must be at least 1",
        "order.warehouse": "no such warehouse",
    }
    assert shop.level(warehouse, sku).reserved == 0


def test_a_malformed_warehouse_name_is_named_with_the_other_violations(shop: Shop) -> None:
    warehouse, (sku,) = shop.stocked(1, 5)
    order = pb.Order(warehouse="depot-7", lines=[pb.OrderLine(sku=sku, quantity=0)])
    got = refused(
        shop.orders.CreateOrder,
        pb.CreateOrderRequest(request_id=new_id(), order=order),
        metadata=shop.as_role(),
        timeout=15,
    )
    assert sorted(got.field_violations) == ["order.channel", "order.lines[0].quantity", "order.warehouse"]
    assert shop.level(warehouse, sku).reserved == 0
