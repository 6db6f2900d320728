"""Fields the transport cannot read are refused together with what the use
case finds wrong: one answer names every bad field."""

from __future__ import annotations

import pytest
from google.type import money_pb2

from kit import errors
from stockmesh.order.v1 import order_pb2 as pb
from svc_order import convert
from tests.unit.order.conftest import WHO, Shop


async def test_an_unreadable_warehouse_channel_and_price_are_named_with_the_use_cases_violations(
    shop: Shop,
) -> None:
    request = pb.CreateOrderRequest(
        order=pb.Order(
            channel=99,  # type: ignore[arg-type]
            warehouse="depot-7",
            lines=[
                pb.OrderLine(sku="A", quantity=0),
                pb.OrderLine(sku="B", quantity=1, unit_price=money_pb2.Money(units=1, nanos=-1)),
            ],
        )
    )
    with pytest.raises(errors.InvalidArgument) as bad:
        await shop.orders.create(WHO, "req-1", convert.create_order(request))
    assert [v.field for v in bad.value.violations] == [
        "order.channel",
        "order.warehouse",
        "order.lines[1].unit_price",
        "order.lines[0].quantity",
    ]
    assert shop.stock.calls == []


def test_a_list_request_names_every_unreadable_filter() -> None:
    request = pb.ListOrdersRequest(statuses=[1, 99], channel=99, warehouse="depot-7")  # type: ignore[list-item, arg-type]
    with pytest.raises(errors.InvalidArgument) as bad:
        convert.list_orders(request)
    assert [v.field for v in bad.value.violations] == ["statuses[1]", "channel", "warehouse"]
