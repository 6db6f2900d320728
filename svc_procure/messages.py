"""The protos svc_procure answers with, built from its domain values."""

from __future__ import annotations

from google.protobuf import duration_pb2
from google.type import money_pb2

from kit.protos import enum_to_proto, timestamp
from stockmesh.procure.v1 import procure_pb2 as pb
from svc_procure.convert import DAY
from svc_procure.domain.money import from_nanos, line_total
from svc_procure.domain.orders import PurchaseOrder, Receipt
from svc_procure.domain.suppliers import Supplier, SupplierItem
from svc_procure.names import (
    item_etag,
    item_name,
    order_etag,
    order_name,
    receipt_name,
    supplier_etag,
    supplier_name,
)
from svc_procure.usecases.replenishment import Candidate


def duration(number_of_days: int) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromSeconds(number_of_days * DAY)
    return out


def money(currency: str, amount: int) -> money_pb2.Money:
    units, nanos = from_nanos(amount)
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


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
                line_total=money(c, line_total(line.quantity_ordered, line.unit_cost_nanos)),
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
        out.line_total.CopyFrom(money(currency, line_total(p.suggested_quantity, c.item.unit_cost_nanos)))
    return out
