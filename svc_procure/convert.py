"""svc_procure's requests read into commands (the replies: svc_procure.messages).

A request with several fields to parse names every one it cannot read
(`Fields`), not only the first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf import duration_pb2
from google.type import money_pb2

from kit import protos
from kit.errors import FieldViolation, InvalidArgument, Violations
from stockmesh.procure.v1 import procure_pb2 as pb
from svc_procure import commands
from svc_procure.domain.money import NANOS, to_nanos
from svc_procure.domain.orders import PurchaseOrderState, ReceiptState
from svc_procure.domain.replenishment import DEFAULT_COVERAGE_DAYS, DEFAULT_WINDOW_DAYS
from svc_procure.domain.suppliers import Status

DAY = 86_400
T = TypeVar("T")


class Fields:
    """Parses the fields of one request, keeping every violation to raise once (`check`)."""

    def __init__(self) -> None:
        self.violations = Violations()

    def __call__(self, parse: Callable[..., T], *args: Any, instead: T) -> T:
        """What `parse(*args)` returns, or `instead` while its violations are kept."""
        try:
            return parse(*args)
        except InvalidArgument as exc:
            self.violations.items.extend(exc.violations)
            return instead

    def check(self) -> None:
        self.violations.raise_if_any()


def days(value: duration_pb2.Duration, field: str) -> int:
    """A Duration of whole days -> the number of days."""
    if value.nanos or value.seconds % DAY:
        raise InvalidArgument([FieldViolation(field, "whole days")])
    return value.seconds // DAY


def days_or_none(message: object, name: str, field: str) -> int | None:
    if not message.HasField(name):  # type: ignore[attr-defined]
        return None
    return days(getattr(message, name), field)


def nanos_of(money: money_pb2.Money, field: str) -> int:
    if not -NANOS < money.nanos < NANOS or (
        money.units and money.nanos and (money.units < 0) != (money.nanos < 0)
    ):
        raise InvalidArgument([FieldViolation(field, "units and nanos must agree in sign; nanos below 10^9")])
    return to_nanos(money.units, money.nanos)


def supplier_id(name: str, field: str = "name") -> str:
    return protos.resource_id(name, "suppliers", field)


def warehouse_id(name: str, field: str) -> str:
    return protos.resource_id(name, "warehouses", field)


def order_id(name: str, field: str = "name") -> str:
    return protos.resource_id(name, "purchaseOrders", field)


def child(name: str, collection: str, kind: str, field: str) -> tuple[str, str]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != collection or parts[2] != kind or not parts[1] or not parts[3]:
        raise InvalidArgument([FieldViolation(field, f"must look like {collection}/{{id}}/{kind}/{{id}}")])
    return parts[1], parts[3]


def create_supplier(s: pb.Supplier) -> commands.CreateSupplier:
    return commands.CreateSupplier(
        s.display_name,
        s.contact_name,
        s.contact_email,
        s.contact_phone,
        s.currency_code,
        days_or_none(s, "default_lead_time", "supplier.default_lead_time"),
        s.note,
    )


def create_item(parent: str, i: pb.SupplierItem) -> commands.CreateSupplierItem:
    field = Fields()
    cmd = commands.CreateSupplierItem(
        field(supplier_id, parent, "parent", instead=""),
        i.sku,
        i.supplier_sku,
        i.unit_cost.currency_code,
        field(cost_of, i, instead=None),
        field(days_or_none, i, "lead_time", "supplier_item.lead_time", instead=None),
        i.minimum_order_quantity,
        i.pack_size,
        i.preferred,
    )
    field.check()
    return cmd


def cost_of(i: pb.SupplierItem) -> int | None:
    return nanos_of(i.unit_cost, "supplier_item.unit_cost") if i.HasField("unit_cost") else None


def create_order(o: pb.PurchaseOrder) -> commands.CreatePurchaseOrder:
    field = Fields()
    cmd = commands.CreatePurchaseOrder(
        field(supplier_id, o.supplier, "purchase_order.supplier", instead=""),
        field(warehouse_id, o.warehouse, "purchase_order.warehouse", instead=""),
        tuple(commands.NewLine(line.sku, line.quantity_ordered) for line in o.lines),
        o.supplier_reference,
        o.note,
    )
    field.check()
    return cmd


def update_supplier(s: pb.Supplier, paths: set[str]) -> commands.UpdateSupplier:
    def given(path: str, value: str) -> str | None:
        return value if path in paths else None

    field = Fields()
    cmd = commands.UpdateSupplier(
        field(supplier_id, s.name, "supplier.name", instead=""),
        s.etag,
        display_name=given("display_name", s.display_name),
        contact_name=given("contact_name", s.contact_name),
        contact_email=given("contact_email", s.contact_email),
        contact_phone=given("contact_phone", s.contact_phone),
        default_lead_time_days=field(days, s.default_lead_time, "supplier.default_lead_time", instead=None)
        if "default_lead_time" in paths
        else None,
        note=given("note", s.note),
    )
    field.check()
    return cmd


def update_item(i: pb.SupplierItem, paths: set[str]) -> commands.UpdateSupplierItem:
    field = Fields()
    supplier, item_id = field(child, i.name, "suppliers", "items", "supplier_item.name", instead=("", ""))
    cmd = commands.UpdateSupplierItem(
        supplier,
        item_id,
        i.etag,
        tuple(sorted(paths)),
        i.supplier_sku,
        i.unit_cost.currency_code,
        field(cost_of, i, instead=None),
        field(days_or_none, i, "lead_time", "supplier_item.lead_time", instead=None),
        i.minimum_order_quantity,
        i.pack_size,
        i.preferred,
    )
    field.check()
    return cmd


def update_order(o: pb.PurchaseOrder, paths: set[str]) -> commands.UpdatePurchaseOrder:
    field = Fields()
    cmd = commands.UpdatePurchaseOrder(
        field(order_id, o.name, "purchase_order.name", instead=""),
        o.etag,
        tuple(sorted(paths)),
        field(warehouse_id, o.warehouse, "purchase_order.warehouse", instead="")
        if "warehouse" in paths
        else "",
        tuple(commands.NewLine(line.sku, line.quantity_ordered) for line in o.lines),
        protos.datetime_of(o, "expected_delivery_time"),
        o.supplier_reference,
        o.note,
    )
    field.check()
    return cmd


def optional_id(name: str, collection: str, field: str) -> str:
    """An optional filter or a "<collection>/-" parent: "" means any."""
    if not name or name == f"{collection}/-":
        return ""
    return protos.resource_id(name, collection, field)


def proposal_line(line: pb.ProposalLine, index: int) -> commands.ProposalLine:
    supplier, item_id = child(line.supplier_item, "suppliers", "items", f"lines[{index}].supplier_item")
    return commands.ProposalLine(line.sku, supplier, item_id, line.quantity)


def list_suppliers(request: pb.ListSuppliersRequest) -> commands.ListQuery:
    status = protos.enum_of(request.status, "SUPPLIER_STATUS", pb.SupplierStatus, Status, "status")
    return commands.ListQuery(
        request.page_size, request.page_token, status.value if status else "", request.query
    )


def list_items(request: pb.ListSupplierItemsRequest) -> commands.ListQuery:
    field = Fields()
    status = field(
        protos.enum_of,
        request.status,
        "SUPPLIER_ITEM_STATUS",
        pb.SupplierItemStatus,
        Status,
        "status",
        instead=None,
    )
    parent = field(optional_id, request.parent, "suppliers", "parent", instead="")
    if not request.parent:
        field(supplier_id, request.parent, "parent", instead="")
    field.check()
    return commands.ListQuery(
        request.page_size,
        request.page_token,
        status.value if status else "",
        parent_id=parent,
        sku=request.sku,
    )


def order_state(number: int) -> str:
    return str(
        protos.enum_of(
            number, "PURCHASE_ORDER_STATE", pb.PurchaseOrderState, PurchaseOrderState, "states", required=True
        )
    )


def list_orders(request: pb.ListPurchaseOrdersRequest) -> commands.ListQuery:
    field = Fields()

    query = commands.ListQuery(
        request.page_size,
        request.page_token,
        parent_id=field(optional_id, request.supplier, "suppliers", "supplier", instead=""),
        sku=request.sku,
        warehouse_id=field(optional_id, request.warehouse, "warehouses", "warehouse", instead=""),
        states=tuple(field(order_state, n, instead="") for n in request.states),
        start=protos.datetime_of(request, "start_time"),
        end=protos.datetime_of(request, "end_time"),
    )
    field.check()
    return query


def list_receipts(request: pb.ListReceiptsRequest) -> commands.ListQuery:
    field = Fields()
    state = field(
        protos.enum_of, request.state, "RECEIPT_STATE", pb.ReceiptState, ReceiptState, "state", instead=None
    )
    if request.parent != "purchaseOrders/-":
        field(order_id, request.parent, "parent", instead="")
    query = commands.ListQuery(
        request.page_size,
        request.page_token,
        state.value if state else "",
        parent_id=field(optional_id, request.parent, "purchaseOrders", "parent", instead=""),
        warehouse_id=field(optional_id, request.warehouse, "warehouses", "warehouse", instead=""),
        start=protos.datetime_of(request, "start_time"),
        end=protos.datetime_of(request, "end_time"),
    )
    field.check()
    return query


def create_from_proposal(request: pb.CreatePurchaseOrdersFromProposalRequest) -> commands.CreateFromProposal:
    field = Fields()
    cmd = commands.CreateFromProposal(
        field(warehouse_id, request.warehouse, "warehouse", instead=""),
        tuple(
            field(proposal_line, line, i, instead=commands.ProposalLine(line.sku, "", "", line.quantity))
            for i, line in enumerate(request.lines)
        ),
        request.note,
    )
    field.check()
    return cmd


def propose(request: pb.ProposeReplenishmentRequest) -> commands.ProposeReplenishment:
    field = Fields()
    cmd = commands.ProposeReplenishment(
        field(warehouse_id, request.warehouse, "warehouse", instead=""),
        field(days, request.demand_window, "demand_window", instead=0)
        if request.HasField("demand_window")
        else DEFAULT_WINDOW_DAYS,
        field(days, request.coverage, "coverage", instead=0)
        if request.HasField("coverage")
        else DEFAULT_COVERAGE_DAYS,
        tuple(request.skus),
    )
    field.check()
    return cmd
