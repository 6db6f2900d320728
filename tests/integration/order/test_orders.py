"""Orders end to end: svc_order reserving, shipping, cancelling and returning
through the real svc_stock, with prices from the real svc_catalog."""

from __future__ import annotations

import grpc

from stockmesh.order.v1 import order_pb2 as pb
from stockmesh.stock.v1 import stock_pb2
from stockmesh.user.v1 import user_pb2
from tests.conftest import new_id
from tests.harness import refused
from tests.integration.order.conftest import Shop, eur


def test_order_reserves_then_ship_takes_the_stock_out_and_the_ledger_shows_it(shop: Shop) -> None:
    warehouse, (a, b) = shop.stocked(2, 10)
    order = shop.create(warehouse, [(a, 3), (b, 2)], customer="crm-42")
    assert order.status == pb.ORDER_STATUS_RESERVED
    assert order.number.startswith("SO-")
    assert order.total == eur(25)  # list price 5 EUR each
    assert shop.level(warehouse, a).reserved == 3

    shipped = shop.orders.ShipOrder(
        pb.ShipOrderRequest(request_id=new_id(), name=order.name, carrier="DHL", etag=order.etag),
        metadata=shop.as_role(user_pb2.ROLE_CLERK),
        timeout=15,
    ).order
    assert shipped.status == pb.ORDER_STATUS_SHIPPED
    assert [line.shipped_quantity for line in shipped.lines] == [3, 2]
    level = shop.level(warehouse, a)
    assert (level.on_hand, level.reserved) == (7, 0)
    ledger = shop.levels.ListMovements(
        stock_pb2.ListMovementsRequest(reference=order.name, types=[stock_pb2.MOVEMENT_TYPE_SHIPMENT]),
        metadata=shop.as_role(),
        timeout=10,
    ).movements
    assert sorted((m.sku, m.quantity_delta) for m in ledger) == sorted([(a, -3), (b, -2)])

    give_back = pb.ReturnOrderRequest(
        request_id=new_id(),
        name=order.name,
        lines=[pb.ReturnLine(sku=a, quantity=1)],
        reason=pb.RETURN_REASON_UNWANTED,
    )
    back = shop.orders.ReturnOrder(give_back, metadata=shop.as_role(), timeout=15)
    assert back.order_return.state == pb.RETURN_STATE_BOOKED
    assert back.order_return.total == eur(5)
    assert len(back.order_return.stock_movements) == 1
    assert back.order.status == pb.ORDER_STATUS_PARTIALLY_RETURNED
    assert back.order.returned_total == eur(5)
    repeat = shop.orders.ReturnOrder(give_back, metadata=shop.as_role(), timeout=15)
    assert repeat.order_return.name == back.order_return.name  # booked once
    assert shop.level(warehouse, a).on_hand == 8
    over = refused(
        shop.orders.ReturnOrder,
        pb.ReturnOrderRequest(
            request_id=new_id(),
            name=order.name,
            lines=[pb.ReturnLine(sku=a, quantity=3)],
            reason=pb.RETURN_REASON_DAMAGED,
        ),
        metadata=shop.as_role(),
        timeout=15,
    )
    assert over.reason == "OVER_RETURN"
    assert [v.subject for v in over.precondition_violations] == [a]


def test_cancel_makes_the_stock_available_again(shop: Shop) -> None:
    warehouse, (sku,) = shop.stocked(1, 5)
    order = shop.create(warehouse, [(sku, 4)])
    assert shop.level(warehouse, sku).available == 1

    cancelled = shop.orders.CancelOrder(
        pb.CancelOrderRequest(request_id=new_id(), name=order.name, reason="customer called"),
        metadata=shop.as_role(user_pb2.ROLE_MANAGER),
        timeout=15,
    ).order
    assert cancelled.status == pb.ORDER_STATUS_CANCELLED
    assert cancelled.cancel_reason == "customer called"
    assert shop.level(warehouse, sku).available == 5
    again = refused(
        shop.orders.ShipOrder,
        pb.ShipOrderRequest(request_id=new_id(), name=order.name),
        metadata=shop.as_role(),
        timeout=15,
    )
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE_TRANSITION")


def test_short_stock_names_the_short_lines_and_holds_nothing(shop: Shop) -> None:
    warehouse, (a, b) = shop.stocked(2, 2)
    got = refused(shop.create, warehouse, [(a, 1), (b, 5)])
    assert (got.code, got.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    assert [v.subject for v in got.precondition_violations] == [f"{warehouse}/stockLevels/{b}"]
    assert "available 2" in got.precondition_violations[0].description
    assert shop.level(warehouse, a).reserved == 0
    listed = shop.orders.ListOrders(pb.ListOrdersRequest(sku=a), metadata=shop.as_role(), timeout=10)
    assert list(listed.orders) == []


def test_unknown_and_archived_skus_are_refused_naming_the_lines(shop: Shop) -> None:
    warehouse, (a, b) = shop.stocked(2, 5)
    unknown = refused(shop.create, warehouse, [(a, 1), ("NOPE-1", 1)])
    assert unknown.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(unknown.field_violations) == ["order.lines[1].sku"]

    shop.archive(b)
    archived = refused(shop.create, warehouse, [(a, 1), (b, 1)])
    assert (archived.code, archived.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SKU_ARCHIVED")
    assert [v.subject for v in archived.precondition_violations] == [b]
    assert shop.level(warehouse, a).reserved == 0


def test_a_repeated_request_returns_the_first_order_and_external_ids_are_unique(shop: Shop) -> None:
    warehouse, (sku,) = shop.stocked(1, 5)
    request_id = new_id()
    first = shop.create(warehouse, [(sku, 2)], request_id=request_id, external_id="web-1")
    again = shop.create(warehouse, [(sku, 2)], request_id=request_id, external_id="web-1")
    assert again.name == first.name
    assert shop.level(warehouse, sku).reserved == 2

    duplicate = refused(shop.create, warehouse, [(sku, 1)], external_id="web-1")
    assert (duplicate.code, duplicate.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_EXTERNAL_ID")
    assert duplicate.metadata["order"] == first.name


def test_prices_are_snapshotted_and_totals_exact(shop: Shop) -> None:
    warehouse, (a, b) = shop.stocked(2, 5)
    order = shop.orders.CreateOrder(
        pb.CreateOrderRequest(
            request_id=new_id(),
            order=pb.Order(
                channel=pb.SALES_CHANNEL_PHONE,
                warehouse=warehouse,
                lines=[
                    pb.OrderLine(sku=a, quantity=3, unit_price=eur(0, 100_000_000)),
                    pb.OrderLine(sku=b, quantity=1),
                ],
            ),
        ),
        metadata=shop.as_role(),
        timeout=15,
    ).order
    assert order.lines[0].line_total == eur(0, 300_000_000)
    assert order.lines[0].list_price == eur(5)
    assert order.total == eur(5, 300_000_000)
    assert order.currency_code == "EUR"


def test_roles_and_tenants_are_checked_on_every_rpc(shop: Shop) -> None:
    warehouse, (sku,) = shop.stocked(1, 5)
    order = shop.create(warehouse, [(sku, 1)])
    viewer = shop.as_role(user_pb2.ROLE_VIEWER)
    clerk = shop.as_role(user_pb2.ROLE_CLERK)
    assert shop.orders.GetOrder(pb.GetOrderRequest(name=order.name), metadata=viewer, timeout=10).order.name
    denied = [
        refused(shop.create, warehouse, [(sku, 1)], role=user_pb2.ROLE_VIEWER),
        refused(
            shop.orders.CancelOrder,
            pb.CancelOrderRequest(request_id=new_id(), name=order.name),
            metadata=clerk,
            timeout=10,
        ),
        refused(
            shop.orders.ImportSales,
            pb.ImportSalesRequest(request_id=new_id(), channel=pb.SALES_CHANNEL_POS),
            metadata=viewer,
            timeout=10,
        ),
    ]
    assert {d.code for d in denied} == {grpc.StatusCode.PERMISSION_DENIED}

    stranger = shop.other_tenant().as_role()
    hidden = refused(shop.orders.GetOrder, pb.GetOrderRequest(name=order.name), metadata=stranger, timeout=10)
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    listed = shop.orders.ListOrders(pb.ListOrdersRequest(), metadata=stranger, timeout=10)
    assert list(listed.orders) == []
    cancel = refused(
        shop.orders.CancelOrder,
        pb.CancelOrderRequest(request_id=new_id(), name=order.name),
        metadata=stranger,
        timeout=10,
    )
    assert cancel.code == grpc.StatusCode.NOT_FOUND
