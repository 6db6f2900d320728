"""Orders and their parts as rows, and rows back as orders."""

from __future__ import annotations

import json
from typing import Any

from svc_order.domain import (
    Line,
    Money,
    Order,
    OrderReturn,
    OrderStatus,
    ReturnReason,
    ReturnState,
    SalesChannel,
    Shipment,
)


def state_of(order: Order) -> dict[str, Any]:
    """The columns an order's changes write."""
    return {
        "status": order.status.value,
        "reservation_id": order.reservation_id,
        "hold_expire_at": order.hold_expire_at,
        "carrier": order.shipment.carrier if order.shipment else None,
        "tracking_number": order.shipment.tracking_number if order.shipment else None,
        "shipped_at": order.shipment.shipped_at if order.shipment else None,
        "updated_at": order.updated_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
        "version": order.version,
    }


def line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "position": i,
            "sku": line.sku,
            "quantity": line.quantity,
            "description": line.description,
            "list_price_currency": line.list_price.currency_code,
            "list_price_units": line.list_price.units,
            "list_price_nanos": line.list_price.nanos,
            "unit_price_units": line.unit_price.units,
            "unit_price_nanos": line.unit_price.nanos,
            "shipped_quantity": line.shipped_quantity,
            "returned_quantity": line.returned_quantity,
        }
        for i, line in enumerate(order.lines)
    ]


def line_of(r: Any) -> Line:
    return Line(
        r.sku,
        r.quantity,
        r.description,
        Money(r.list_price_currency, r.list_price_units, r.list_price_nanos),
        Money(r.list_price_currency, r.unit_price_units, r.unit_price_nanos),
        r.shipped_quantity,
        r.returned_quantity,
    )


def return_of(r: Any, currency_code: str) -> OrderReturn:
    return OrderReturn(
        id=r.id,
        order_id=r.order_id,
        lines=tuple((sku, int(q)) for sku, q in json.loads(r.lines)),
        reason=ReturnReason(r.reason),
        note=r.note,
        warehouse_id=r.warehouse_id,
        total=Money(currency_code, r.total_units, r.total_nanos),
        state=ReturnState(r.state),
        stock_movements=tuple(json.loads(r.stock_movements)),
        creator_id=r.creator_id,
        returned_at=r.returned_at,
        booked_at=r.booked_at,
    )


def order_of(row: Any, its_lines: list[Line], its_returns: list[OrderReturn]) -> Order:
    return Order(
        id=row.id,
        tenant_id=row.tenant_id,
        number=row.number,
        channel=SalesChannel(row.channel),
        external_id=row.external_id or "",
        customer=row.customer,
        warehouse_id=row.warehouse_id,
        status=OrderStatus(row.status),
        lines=tuple(its_lines),
        currency_code=row.currency_code,
        reservation_id=row.reservation_id,
        hold_expire_at=row.hold_expire_at,
        shipment=Shipment(row.carrier or "", row.tracking_number or "", row.shipped_at)
        if row.shipped_at
        else None,
        returns=tuple(its_returns),
        note=row.note,
        order_time=row.order_time,
        creator_id=row.creator_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        version=row.version,
        imported=row.imported,
    )
