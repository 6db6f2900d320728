"""The rules of sales orders, one module per concept: money, request checks,
orders and their states, the catalog's price snapshot, returns, and sales
sync. Standard library and kit's errors only.

The names every caller uses are gathered here, so `domain.Order` reads the
same wherever it is written.
"""

from svc_order.domain.checks import (
    DEFAULT_HOLD,
    MAX_HOLD,
    MAX_ID,
    MAX_LINES,
    MAX_REFERENCE,
    MAX_SALES,
    MAX_SHIPMENT_FIELD,
    MIN_HOLD,
    check_hold,
    check_length,
    check_lines,
    require,
)
from svc_order.domain.money import NANOS, Money
from svc_order.domain.orders import (
    RETURNABLE,
    Line,
    Order,
    OrderStatus,
    SalesChannel,
    Shipment,
    cancelled,
    new_order,
    order_name,
    order_number,
    require_status,
    return_total,
    returned,
    shipped,
    taken_back,
)
from svc_order.domain.pricing import CatalogVariant, price_lines
from svc_order.domain.returns import OrderReturn, PendingReturn, ReturnReason, ReturnState, return_name
from svc_order.domain.sales import LineProblem, Rejection, SaleOutcome, SaleRejected, SaleResult

__all__ = [
    "DEFAULT_HOLD",
    "MAX_HOLD",
    "MAX_ID",
    "MAX_LINES",
    "MAX_REFERENCE",
    "MAX_SALES",
    "MAX_SHIPMENT_FIELD",
    "MIN_HOLD",
    "NANOS",
    "RETURNABLE",
    "CatalogVariant",
    "Line",
    "LineProblem",
    "Money",
    "Order",
    "OrderReturn",
    "OrderStatus",
    "PendingReturn",
    "Rejection",
    "ReturnReason",
    "ReturnState",
    "SaleOutcome",
    "SaleRejected",
    "SaleResult",
    "SalesChannel",
    "Shipment",
    "cancelled",
    "check_hold",
    "check_length",
    "check_lines",
    "new_order",
    "order_name",
    "order_number",
    "price_lines",
    "require",
    "require_status",
    "return_name",
    "return_total",
    "returned",
    "shipped",
    "taken_back",
]
