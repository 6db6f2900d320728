"""Suppliers, items and purchase orders over their lifecycle: updates, archiving, closing, lists."""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2

from stockmesh.procure.v1 import procure_pb2 as pb
from tests import harness
from tests.conftest import new_id
from tests.integration.procure.conftest import Buying, days


def test_supplier_update_archive_and_stale_etag(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    name = buying.supplier()
    meta = buying.world.as_role()
    read = buying.suppliers.GetSupplier(pb.GetSupplierRequest(name=name), metadata=meta, timeout=10).supplier
    updated = buying.suppliers.UpdateSupplier(
        pb.UpdateSupplierRequest(
            request_id=new_id(),
            supplier=pb.Supplier(
                name=name, etag=read.etag, contact_name="Ada Lovelace", default_lead_time=days(3)
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["contact_name", "default_lead_time"]),
        ),
        metadata=meta,
        timeout=10,
    ).supplier
    assert (updated.contact_name, updated.default_lead_time.seconds) == ("Ada Lovelace", 3 * 86_400)
    stale = pb.ArchiveSupplierRequest(request_id=new_id(), name=name, etag=read.etag)
    assert harness.refused(buying.suppliers.ArchiveSupplier, stale, metadata=meta, timeout=10).code == (
        grpc.StatusCode.ABORTED
    )
    found = buying.suppliers.ListSuppliers(
        pb.ListSuppliersRequest(query="ada lov"), metadata=meta, timeout=10
    )
    assert [s.name for s in found.suppliers] == [name]

    buying.item(name, a)
    buying.suppliers.ArchiveSupplier(
        pb.ArchiveSupplierRequest(request_id=new_id(), name=name), metadata=meta, timeout=10
    )
    refused = harness.refused(buying.order, name, warehouse, [(a, 1)])
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SUPPLIER_ARCHIVED")


def test_line_rules_close_and_lists(buying: Buying) -> None:
    a, b = buying.world.skus(2)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    meta = buying.world.as_role()
    buying.item(supplier, a, moq=10, pack=5)
    buying.item(supplier, b)

    refused = harness.refused(buying.order, supplier, warehouse, [(a, 5), (b, 3)])
    assert [(v.type, v.subject) for v in refused.precondition_violations] == [
        ("BELOW_MINIMUM_ORDER_QUANTITY", a)
    ]
    draft = buying.order(supplier, warehouse, [(a, 10)], submit=False)

    def relines(name: str, quantity: int) -> pb.UpdatePurchaseOrderRequest:
        return pb.UpdatePurchaseOrderRequest(
            request_id=new_id(),
            purchase_order=pb.PurchaseOrder(
                name=name,
                lines=[
                    pb.PurchaseOrderLine(sku=a, quantity_ordered=quantity),
                    pb.PurchaseOrderLine(sku=b, quantity_ordered=3),
                ],
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["lines"]),
        )

    updated = buying.orders.UpdatePurchaseOrder(
        relines(draft.name, 20), metadata=meta, timeout=10
    ).purchase_order
    assert [(line.sku, line.quantity_ordered) for line in updated.lines] == [(a, 20), (b, 3)]
    order = buying.orders.SubmitPurchaseOrder(
        pb.SubmitPurchaseOrderRequest(request_id=new_id(), name=draft.name, etag=updated.etag),
        metadata=meta,
        timeout=10,
    ).purchase_order
    not_draft = harness.refused(
        buying.orders.UpdatePurchaseOrder, relines(order.name, 10), metadata=meta, timeout=10
    )
    assert not_draft.reason == "PURCHASE_ORDER_NOT_DRAFT"
    buying.receive(order.name, [(a, 4)])
    closed = buying.orders.ClosePurchaseOrder(
        pb.ClosePurchaseOrderRequest(request_id=new_id(), name=order.name, reason="short shipped"),
        metadata=meta,
        timeout=10,
    ).purchase_order
    assert (closed.state, closed.end_reason) == (pb.PURCHASE_ORDER_STATE_CLOSED, "short shipped")

    listed = buying.orders.ListPurchaseOrders(
        pb.ListPurchaseOrdersRequest(sku=b, states=[pb.PURCHASE_ORDER_STATE_CLOSED]),
        metadata=meta,
        timeout=10,
    )
    assert [o.name for o in listed.purchase_orders] == [order.name]
    receipts = buying.orders.ListReceipts(
        pb.ListReceiptsRequest(parent=order.name), metadata=meta, timeout=10
    )
    assert [r.lines[0].quantity for r in receipts.receipts] == [4]


def test_unknown_sku_and_warehouse_are_invalid_arguments(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a)

    unknown_sku = harness.refused(buying.order, supplier, warehouse, [(a, 1), ("NO-SUCH-SKU", 1)])
    assert unknown_sku.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(unknown_sku.field_violations) == ["purchase_order.lines[1].sku"]
    unknown_warehouse = harness.refused(buying.order, supplier, "warehouses/nope", [(a, 1)])
    assert list(unknown_warehouse.field_violations) == ["purchase_order.warehouse"]


def test_items_of_every_supplier_by_sku_and_item_updates(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    meta = buying.world.as_role()
    slow, quick = buying.supplier(lead_days=10), buying.supplier(lead_days=2)
    slow_item = buying.item(slow, a, cents=100)
    buying.item(quick, a, cents=120)

    changed = buying.suppliers.UpdateSupplierItem(
        pb.UpdateSupplierItemRequest(
            request_id=new_id(),
            supplier_item=pb.SupplierItem(
                name=slow_item.name, etag=slow_item.etag, lead_time=days(4), preferred=True
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["lead_time", "preferred"]),
        ),
        metadata=meta,
        timeout=10,
    ).supplier_item
    assert (changed.effective_lead_time.seconds, changed.preferred) == (4 * 86_400, True)
    stale = pb.ArchiveSupplierItemRequest(request_id=new_id(), name=slow_item.name, etag=slow_item.etag)
    assert harness.refused(buying.suppliers.ArchiveSupplierItem, stale, metadata=meta, timeout=10).code == (
        grpc.StatusCode.ABORTED
    )

    listed = buying.suppliers.ListSupplierItems(
        pb.ListSupplierItemsRequest(parent="suppliers/-", sku=a), metadata=meta, timeout=10
    ).supplier_items
    lead_days = {i.name: i.effective_lead_time.seconds // 86_400 for i in listed}
    assert len(lead_days) == 2
    assert lead_days[slow_item.name] == 4
    assert sorted(lead_days.values()) == [2, 4]
