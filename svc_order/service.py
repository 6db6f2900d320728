"""svc_order's gRPC servicer: proto in, command to a use case, proto out."""

from __future__ import annotations

from kit import auth
from kit.identity import Role
from kit.rpc import Context
from stockmesh.order.v1 import order_pb2 as pb
from stockmesh.order.v1 import order_pb2_grpc
from svc_order import commands, convert
from svc_order.domain import SaleOutcome
from svc_order.usecases.orders import Orders
from svc_order.usecases.returns import Returns
from svc_order.usecases.sales import Sales

ORDER = "stockmesh.order.v1.OrderService"

MANAGERS = auth.roles(Role.MANAGER)
FLOOR = auth.roles(Role.MANAGER, Role.CLERK)

RULES: dict[str, auth.Rule] = {
    f"/{ORDER}/CreateOrder": FLOOR,
    f"/{ORDER}/GetOrder": auth.ANY_USER,
    f"/{ORDER}/ListOrders": auth.ANY_USER,
    f"/{ORDER}/CancelOrder": MANAGERS,
    f"/{ORDER}/ShipOrder": FLOOR,
    f"/{ORDER}/ReturnOrder": FLOOR,
    f"/{ORDER}/ImportSales": FLOOR,
}


class OrderServicer(order_pb2_grpc.OrderServiceServicer):
    def __init__(self, orders: Orders, returns: Returns, sales: Sales) -> None:
        self.orders = orders
        self.returns = returns
        self.sales = sales

    async def CreateOrder(self, request: pb.CreateOrderRequest, context: Context) -> pb.CreateOrderResponse:
        created = await self.orders.create(
            auth.principal(), request.request_id, convert.create_order(request)
        )
        return pb.CreateOrderResponse(order=convert.order(created))

    async def GetOrder(self, request: pb.GetOrderRequest, context: Context) -> pb.GetOrderResponse:
        found = await self.orders.get(auth.principal(), convert.order_id(request.name))
        return pb.GetOrderResponse(order=convert.order(found))

    async def ListOrders(self, request: pb.ListOrdersRequest, context: Context) -> pb.ListOrdersResponse:
        page = await self.orders.list_orders(auth.principal(), convert.list_orders(request))
        return pb.ListOrdersResponse(
            orders=[convert.order(o) for o in page.items], next_page_token=page.next_page_token
        )

    async def CancelOrder(self, request: pb.CancelOrderRequest, context: Context) -> pb.CancelOrderResponse:
        cmd = commands.CancelOrder(convert.order_id(request.name), request.reason, request.etag)
        cancelled = await self.orders.cancel(auth.principal(), request.request_id, cmd)
        return pb.CancelOrderResponse(order=convert.order(cancelled))

    async def ShipOrder(self, request: pb.ShipOrderRequest, context: Context) -> pb.ShipOrderResponse:
        cmd = commands.ShipOrder(
            convert.order_id(request.name), request.carrier, request.tracking_number, request.etag
        )
        shipped = await self.orders.ship(auth.principal(), request.request_id, cmd)
        return pb.ShipOrderResponse(order=convert.order(shipped))

    async def ReturnOrder(self, request: pb.ReturnOrderRequest, context: Context) -> pb.ReturnOrderResponse:
        booked, order = await self.returns.return_order(
            auth.principal(), request.request_id, convert.return_order(request)
        )
        return pb.ReturnOrderResponse(order_return=convert.order_return(booked), order=convert.order(order))

    async def ImportSales(self, request: pb.ImportSalesRequest, context: Context) -> pb.ImportSalesResponse:
        results = await self.sales.import_sales(
            auth.principal(), request.request_id, convert.import_sales(request)
        )
        return pb.ImportSalesResponse(
            results=[convert.sale_result(r) for r in results],
            booked_count=sum(r.outcome is SaleOutcome.BOOKED for r in results),
            duplicate_count=sum(r.outcome is SaleOutcome.DUPLICATE for r in results),
            rejected_count=sum(r.outcome is SaleOutcome.REJECTED for r in results),
        )
