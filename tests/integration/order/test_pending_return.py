"""A return made while svc_stock is down stays PENDING and is booked once,
in the background, when svc_stock is back: svc_order's system work, admitted
by svc_stock's rule for ReturnStock without any user token."""

from __future__ import annotations

import time

from stockmesh.order.v1 import order_pb2 as pb
from stockmesh.stock.v1 import stock_pb2
from tests.conftest import Stacks, Tenant, create_tenant, new_id
from tests.integration.order.conftest import BACKEND, Shop
from tests.integration.stock.conftest import stock_stack


def test_a_pending_return_is_booked_once_when_stock_is_back(stacks: Stacks) -> None:
    stock = stock_stack(stacks, BACKEND, variant="-for-returns")  # starts svc_user and svc_catalog too
    user, catalog = stacks.user(BACKEND), stacks.service("catalog", BACKEND)
    order_service = stacks.service(
        "order",
        BACKEND,
        env={
            "STOCKMESH_USER_ADDR": user.address,
            "STOCKMESH_CATALOG_ADDR": catalog.address,
            "STOCKMESH_STOCK_ADDR": stock.address,
            "STOCKMESH_ORDER_BOOKING_SECONDS": "0.3",
        },
        variant="-returns",
    )
    slug, email = create_tenant(user.database_url)
    with user.channel() as u, catalog.channel() as c, stock.channel() as s, order_service.channel() as o:
        shop = Shop(Tenant(slug, email, u), c, s, stock, user.database_url, order_channel=o)
        warehouse, (sku,) = shop.stocked(1, 5)
        order = shop.create(warehouse, [(sku, 2)])
        shipped = shop.orders.ShipOrder(
            pb.ShipOrderRequest(request_id=new_id(), name=order.name), metadata=shop.as_role(), timeout=15
        ).order

        stock.stop()
        back = shop.orders.ReturnOrder(
            pb.ReturnOrderRequest(
                request_id=new_id(),
                name=shipped.name,
                lines=[pb.ReturnLine(sku=sku, quantity=1)],
                reason=pb.RETURN_REASON_UNWANTED,
            ),
            metadata=shop.as_role(),
            timeout=15,
        ).order_return
        stock.start(migrate=False)

    with stock.channel() as s, order_service.channel() as o:
        shop.stock_channel, shop.order_channel = s, o
        deadline = time.monotonic() + 20
        state = back.state
        while state != pb.RETURN_STATE_BOOKED and time.monotonic() < deadline:
            time.sleep(0.3)
            current = shop.orders.GetOrder(
                pb.GetOrderRequest(name=shipped.name), metadata=shop.as_role(), timeout=10
            )
            state = current.order.returns[0].state if current.order.returns else back.state
        returns = shop.levels.ListMovements(
            stock_pb2.ListMovementsRequest(sku=sku, types=[stock_pb2.MOVEMENT_TYPE_RETURN]),
            metadata=shop.as_role(),
            timeout=10,
        ).movements

        assert back.state == pb.RETURN_STATE_PENDING
        assert state == pb.RETURN_STATE_BOOKED
        assert [(m.quantity_delta, m.user, m.caller.rsplit("/", 1)[1]) for m in returns] == [
            (1, "", "svc-order")
        ]
        assert shop.level(warehouse, sku).on_hand == 4
