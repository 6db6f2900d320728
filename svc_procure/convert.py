"""Translation between svc_procure's protos and its domain values."""

from __future__ import annotations

from google.protobuf import duration_pb2
from google.type import money_pb2

from kit import protos
from kit.errors import FieldViolation, InvalidArgument
from kit.protos import enum_to_proto, timestamp
from stockmesh.procure.v1 import procure_pb2 as pb
from svc_procure import commands, domain
from svc_procure.domain import PurchaseOrder, Receipt, Supplier, SupplierItem
from svc_procure.usecases.orders import order_etag, order_name, receipt_name
from svc_procure.usecases.replenishment import Candidate
from svc_procure.usecases.suppliers import item_etag, item_name, supplier_etag, supplier_name

DAY = 86_400


def days(value: duration_pb2.Duration, field: str) -> int:
    """A Duration of whole days -> the number of days."""
    if value.nanos or value.seconds % DAY:
        raise InvalidArgument([FieldViolation(field, "whole days")])
    return value.seconds // DAY


def days_or_none(message: object, name: str, field: str) -> int | None:
    if not message.HasField(name):  # type: ignore[attr-defined]
        return None
    return days(getattr(message, name), field)


def duration(number_of_days: int) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromSeconds(number_of_days * DAY)
    return out


def nanos_of(money: money_pb2.Money, field: str) -> int:
    if not -domain.NANOS < money.nanos < domain.NANOS or (
        money.units and money.nanos and (money.units < 0) != (money.nanos < 0)
    ):
        raise InvalidArgument([FieldViolation(field, "units and nanos must agree in sign; nanos below 10^9")])
    return domain.to_nanos(money.units, money.nanos)


def money(currency: str, amount: int) -> money_pb2.Money:
    units, nanos = domain.from_nanos(amount)
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


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
    has_cost = i.HasField("unit_cost")
    return commands.CreateSupplierItem(
        supplier_id(parent, "parent"),
        i.sku,
        i.supplier_sku,
        i.unit_cost.currency_code,
        nanos_of(i.unit_cost, "supplier_item.unit_cost") if has_cost else None,
        days_or_none(i, "lead_time", "supplier_item.lead_time"),
        i.minimum_order_quantity,
        i.pack_size,
        i.preferred,
    )


def create_order(o: pb.PurchaseOrder) -> commands.CreatePurchaseOrder:
    return commands.CreatePurchaseOrder(
        supplier_id(o.supplier, "purchase_order.supplier"),
        warehouse_id(o.warehouse, "purchase_order.warehouse"),
        tuple(commands.NewLine(line.sku, line.quantity_ordered) for line in o.lines),
        o.supplier_reference,
        o.note,
    )


def supplier(s: Supplier) -> pb.Supplier:
    return pb.Supplier(
        name=supplier_name(s.id),
        display_name=s.display_name,
        contact_name=s.contact_name,
        contact_email=s.contact_email,
        contact_phone=s.contact_phone,
        currency_code=s.currency_code,
        default_lead_time=duration(s.default_lead_time_days),
        status=enum_to_proto(s.status, "SUPPLIER_STATUS", pb.SupplierStatus),
        note=s.note,
        create_time=timestamp(s.created_at),
        update_time=timestamp(s.updated_at),
        archive_time=timestamp(s.archived_at),
        etag=supplier_etag(s),
    )


def item(i: SupplierItem, currency: str, default_lead_time_days: int) -> pb.SupplierItem:
    out = pb.SupplierItem(
        name=item_name(i.supplier_id, i.id),
        sku=i.sku,
        supplier_sku=i.supplier_sku,
        unit_cost=money(currency, i.unit_cost_nanos),
        effective_lead_time=duration(
            i.lead_time_days if i.lead_time_days is not None else default_lead_time_days
        ),
        minimum_order_quantity=i.minimum_order_quantity,
        pack_size=i.pack_size,
        preferred=i.preferred,
        status=enum_to_proto(i.status, "SUPPLIER_ITEM_STATUS", pb.SupplierItemStatus),
        create_time=timestamp(i.created_at),
        update_time=timestamp(i.updated_at),
        etag=item_etag(i),
    )
    if i.lead_time_days is not None:
        out.lead_time.CopyFrom(duration(i.lead_time_days))
    return out


def order(o: PurchaseOrder) -> pb.PurchaseOrder:
    c = o.currency_code
    return pb.PurchaseOrder(
        name=order_name(o.id),
        number=o.number,
        supplier=supplier_name(o.supplier_id),
        warehouse=f"warehouses/{o.warehouse_id}",
        state=enum_to_proto(o.state, "PURCHASE_ORDER_STATE", pb.PurchaseOrderState),
        lines=[
            pb.PurchaseOrderLine(
                sku=line.sku,
                supplier_sku=line.supplier_sku,
                supplier_item=item_name(o.supplier_id, line.supplier_item_id),
                quantity_ordered=line.quantity_ordered,
                quantity_received=line.quantity_received,
                unit_cost=money(c, line.unit_cost_nanos),
                line_total=money(c, domain.line_total(line.quantity_ordered, line.unit_cost_nanos)),
            )
            for line in o.lines
        ],
        currency_code=c,
        total=money(c, o.total_nanos),
        received_total=money(c, o.received_total_nanos),
        expected_delivery_time=timestamp(o.expected_delivery_at),
        supplier_reference=o.supplier_reference,
        note=o.note,
        creator=f"users/{o.creator}",
        create_time=timestamp(o.created_at),
        update_time=timestamp(o.updated_at),
        submit_time=timestamp(o.submitted_at),
        end_time=timestamp(o.ended_at),
        end_reason=o.end_reason,
        etag=order_etag(o),
    )


def receipt(r: Receipt) -> pb.Receipt:
    return pb.Receipt(
        name=receipt_name(r.purchase_order_id, r.id),
        warehouse=f"warehouses/{r.warehouse_id}",
        lines=[pb.ReceiptLine(sku=sku, quantity=qty) for sku, qty in r.lines],
        state=enum_to_proto(r.state, "RECEIPT_STATE", pb.ReceiptState),
        delivery_note=r.delivery_note,
        note=r.note,
        receiver=f"users/{r.receiver}",
        stock_movements=list(r.stock_movements),
        receive_time=timestamp(r.received_at),
        book_time=timestamp(r.booked_at),
    )


def proposal(c: Candidate, warehouse: str, window_days: int, coverage_days: int) -> pb.ReplenishmentProposal:
    p, lv = c.proposal, c.level
    out = pb.ReplenishmentProposal(
        sku=lv.sku,
        warehouse=warehouse,
        status=enum_to_proto(p.status, "PROPOSAL_STATUS", pb.ProposalStatus),
        on_hand=lv.on_hand,
        reserved=lv.reserved,
        available=lv.available,
        reorder_point=lv.reorder_point,
        reorder_quantity=lv.reorder_quantity,
        on_order_quantity=c.position.on_order,
        draft_quantity=c.position.draft,
        inventory_position=p.inventory_position,
        shipped_quantity=c.position.shipped,
        returned_quantity=c.position.returned,
        demand_quantity=p.demand,
        demand_window=duration(window_days),
        daily_demand=p.daily_demand,
        lead_time=duration(c.lead_time_days),
        coverage=duration(coverage_days),
        target_position=p.target_position,
        raw_quantity=p.raw_quantity,
        suggested_quantity=p.suggested_quantity,
        explanation=p.explanation,
    )
    if c.item is not None and c.supplier is not None:
        currency = c.supplier.currency_code
        out.minimum_order_quantity = c.item.minimum_order_quantity
        out.pack_size = c.item.pack_size
        out.supplier = supplier_name(c.supplier.id)
        out.supplier_item = item_name(c.supplier.id, c.item.id)
        out.supplier_sku = c.item.supplier_sku
        out.unit_cost.CopyFrom(money(currency, c.item.unit_cost_nanos))
        out.line_total.CopyFrom(
            money(currency, domain.line_total(p.suggested_quantity, c.item.unit_cost_nanos))
        )
    return out


def update_supplier(s: pb.Supplier, paths: set[str]) -> commands.UpdateSupplier:
    def given(path: str, value: str) -> str | None:
        return value if path in paths else None

    return commands.UpdateSupplier(
        supplier_id(s.name, "supplier.name"),
        s.etag,
        display_name=given("display_name", s.display_name),
        contact_name=given("contact_name", s.contact_name),
        contact_email=given("contact_email", s.contact_email),
        contact_phone=given("contact_phone", s.contact_phone),
        default_lead_time_days=days(s.default_lead_time, "supplier.default_lead_time")
        if "default_lead_time" in paths
        else None,
        note=given("note", s.note),
    )


def update_item(i: pb.SupplierItem, paths: set[str]) -> commands.UpdateSupplierItem:
    supplier, item_id = child(i.name, "suppliers", "items", "supplier_item.name")
    return commands.UpdateSupplierItem(
        supplier,
        item_id,
        i.etag,
        tuple(sorted(paths)),
        i.supplier_sku,
        i.unit_cost.currency_code,
        nanos_of(i.unit_cost, "supplier_item.unit_cost") if i.HasField("unit_cost") else None,
        days_or_none(i, "lead_time", "supplier_item.lead_time"),
        i.minimum_order_quantity,
        i.pack_size,
        i.preferred,
    )


def update_order(o: pb.PurchaseOrder, paths: set[str]) -> commands.UpdatePurchaseOrder:
    return commands.UpdatePurchaseOrder(
        order_id(o.name, "purchase_order.name"),
        o.etag,
        tuple(sorted(paths)),
        warehouse_id(o.warehouse, "purchase_order.warehouse") if "warehouse" in paths else "",
        tuple(commands.NewLine(line.sku, line.quantity_ordered) for line in o.lines),
        protos.datetime_of(o, "expected_delivery_time"),
        o.supplier_reference,
        o.note,
    )


def optional_id(name: str, collection: str, field: str) -> str:
    """An optional filter or a "<collection>/-" parent: "" means any."""
    if not name or name == f"{collection}/-":
        return ""
    return protos.resource_id(name, collection, field)


def proposal_line(line: pb.ProposalLine, index: int) -> commands.ProposalLine:
    supplier, item_id = child(line.supplier_item, "suppliers", "items", f"lines[{index}].supplier_item")
    return commands.ProposalLine(line.sku, supplier, item_id, line.quantity)
