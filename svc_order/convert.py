"""Translation between svc_order's protos and its domain values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from google.type import money_pb2

from kit import protos
from kit.errors import FieldViolation, InvalidArgument
from kit.protos import enum_of, enum_to_proto, timestamp
from stockmesh.order.v1 import order_pb2 as pb
from svc_order import commands, domain
from svc_order.domain import Money, Order, OrderReturn, OrderStatus, ReturnReason, SaleResult, SalesChannel
from svc_order.usecases.orders import order_etag

T = TypeVar("T")
P = ParamSpec("P")


class Reader:
    """Reads a request's fields, keeping every one it cannot read instead of
    stopping at the first, so that a single refusal names them all (with
    what the use case finds wrong, for the commands that carry them)."""

    def __init__(self) -> None:
        self.unreadable: list[FieldViolation] = []

    def __call__(self, fallback: T, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`read(*args, **kwargs)`, or `fallback` when it names a bad field."""
        try:
            return read(*args, **kwargs)
        except InvalidArgument as bad:
            self.unreadable.extend(bad.violations)
            return fallback

    def refuse_if_any(self) -> None:
        if self.unreadable:
            raise InvalidArgument(self.unreadable)


def order_id(name: str, field: str = "name") -> str:
    return protos.resource_id(name, "orders", field)


def warehouse_id(name: str, field: str) -> str:
    return protos.resource_id(name, "warehouses", field) if name else ""


def channel(number: int, field: str) -> SalesChannel | None:
    return enum_of(number, "SALES_CHANNEL", pb.SalesChannel, SalesChannel, field)


def money_of(value: money_pb2.Money, field: str) -> Money:
    if value.nanos and (value.units * value.nanos < 0 or abs(value.nanos) >= domain.NANOS):
        raise InvalidArgument([FieldViolation(field, "units and nanos must have the same sign")])
    return Money(value.currency_code, value.units, value.nanos)


def money(value: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=value.currency_code, units=value.units, nanos=value.nanos)


def line_inputs(
    lines: Sequence[pb.OrderLine | pb.SaleLine], prefix: str, read: Reader
) -> tuple[commands.LineInput, ...]:
    return tuple(
        commands.LineInput(
            line.sku,
            line.quantity,
            read(None, money_of, line.unit_price, f"{prefix}[{i}].unit_price")
            if line.HasField("unit_price")
            else None,
        )
        for i, line in enumerate(lines)
    )


def create_order(request: pb.CreateOrderRequest) -> commands.CreateOrder:
    o = request.order
    read = Reader()
    return commands.CreateOrder(
        channel=read(None, channel, o.channel, "order.channel"),
        external_id=o.external_id,
        customer=o.customer,
        warehouse_id=read("", warehouse_id, o.warehouse, "order.warehouse"),
        lines=line_inputs(list(o.lines), "order.lines", read),
        hold=protos.timedelta_of(o.hold_duration) if o.HasField("hold_duration") else None,
        note=o.note,
        unreadable=tuple(read.unreadable),
    )


def import_sales(request: pb.ImportSalesRequest) -> commands.ImportSales:
    read = Reader()
    return commands.ImportSales(
        read(None, channel, request.channel, "channel"),
        tuple(
            commands.Sale(
                external_id=s.external_id,
                warehouse_id=s.warehouse.removeprefix("warehouses/")
                if s.warehouse.startswith("warehouses/")
                else "",
                lines=line_inputs(list(s.lines), f"sales[{i}].lines", read),
                sold_at=protos.datetime_of(s, "sold_time"),
                customer=s.customer,
                note=s.note,
            )
            for i, s in enumerate(request.sales)
        ),
        unreadable=tuple(read.unreadable),
    )


def list_orders(request: pb.ListOrdersRequest) -> commands.ListOrders:
    read = Reader()
    statuses = tuple(
        s
        for i, number in enumerate(request.statuses)
        if (s := read(None, enum_of, number, "ORDER_STATUS", pb.OrderStatus, OrderStatus, f"statuses[{i}]"))
        is not None
    )
    query = commands.ListOrders(
        page_size=request.page_size,
        page_token=request.page_token,
        statuses=statuses,
        channel=read(None, channel, request.channel, "channel"),
        customer=request.customer,
        warehouse_id=read("", warehouse_id, request.warehouse, "warehouse"),
        external_id=request.external_id,
        sku=request.sku,
        start=protos.datetime_of(request, "start_time"),
        end=protos.datetime_of(request, "end_time"),
    )
    read.refuse_if_any()
    return query


def return_order(request: pb.ReturnOrderRequest) -> commands.ReturnOrder:
    read = Reader()
    return commands.ReturnOrder(
        order_id=order_id(request.name),
        lines=tuple((line.sku, line.quantity) for line in request.lines),
        reason=read(None, enum_of, request.reason, "RETURN_REASON", pb.ReturnReason, ReturnReason, "reason"),
        note=request.note,
        warehouse_id=read("", warehouse_id, request.warehouse, "warehouse"),
        etag=request.etag,
        unreadable=tuple(read.unreadable),
    )


def order_return(value: OrderReturn) -> pb.OrderReturn:
    return pb.OrderReturn(
        name=domain.return_name(value.order_id, value.id),
        lines=[pb.ReturnLine(sku=sku, quantity=quantity) for sku, quantity in value.lines],
        reason=enum_to_proto(value.reason, "RETURN_REASON", pb.ReturnReason),
        note=value.note,
        warehouse=f"warehouses/{value.warehouse_id}",
        total=money(value.total),
        state=enum_to_proto(value.state, "RETURN_STATE", pb.ReturnState),
        stock_movements=list(value.stock_movements),
        creator=f"users/{value.creator_id}" if value.creator_id else "",
        return_time=timestamp(value.returned_at),
        book_time=timestamp(value.booked_at),
    )


def order(value: Order) -> pb.Order:
    out = pb.Order(
        name=domain.order_name(value.id),
        number=domain.order_number(value.number),
        channel=enum_to_proto(value.channel, "SALES_CHANNEL", pb.SalesChannel),
        external_id=value.external_id,
        customer=value.customer,
        warehouse=f"warehouses/{value.warehouse_id}",
        status=enum_to_proto(value.status, "ORDER_STATUS", pb.OrderStatus),
        lines=[
            pb.OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                description=line.description,
                list_price=money(line.list_price),
                unit_price=money(line.unit_price),
                line_total=money(line.total),
                shipped_quantity=line.shipped_quantity,
                returned_quantity=line.returned_quantity,
            )
            for line in value.lines
        ],
        currency_code=value.currency_code,
        total=money(value.total),
        returned_total=money(value.returned_total),
        reservation=f"reservations/{value.reservation_id}",
        hold_expire_time=timestamp(value.hold_expire_at),
        returns=[order_return(r) for r in value.returns],
        note=value.note,
        order_time=timestamp(value.order_time),
        creator=f"users/{value.creator_id}" if value.creator_id else "",
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        cancel_time=timestamp(value.cancelled_at),
        cancel_reason=value.cancel_reason,
        etag=order_etag(value),
    )
    if value.shipment is not None:
        out.shipment.CopyFrom(
            pb.Shipment(
                carrier=value.shipment.carrier,
                tracking_number=value.shipment.tracking_number,
                ship_time=timestamp(value.shipment.shipped_at),
            )
        )
    return out


def sale_result(value: SaleResult) -> pb.SaleResult:
    return pb.SaleResult(
        external_id=value.external_id,
        outcome=enum_to_proto(value.outcome, "SALE_OUTCOME", pb.SaleOutcome),
        order=domain.order_name(value.order_id) if value.order_id else "",
        rejection_reason=enum_to_proto(value.rejection, "SALE_REJECTION_REASON", pb.SaleRejectionReason),
        message=value.message,
        line_problems=[
            pb.SaleLineProblem(
                line_index=p.line_index,
                sku=p.sku,
                reason=enum_to_proto(p.reason, "SALE_REJECTION_REASON", pb.SaleRejectionReason),
                description=p.description,
            )
            for p in value.problems
        ],
    )
