"""Who may do what: buyers manage purchase orders, clerks receive; tenants are apart."""

from __future__ import annotations

import grpc

from stockmesh.procure.v1 import procure_pb2 as pb
from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import new_id
from tests.integration.procure.conftest import Buying


def test_clerk_receives_but_does_not_buy_and_buyer_buys_but_does_not_receive(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a)
    clerk = buying.world.as_role(user_pb2.ROLE_CLERK)
    buyer = buying.world.as_role(user_pb2.ROLE_BUYER)
    lines = [pb.PurchaseOrderLine(sku=a, quantity_ordered=10)]
    create = pb.CreatePurchaseOrderRequest(
        request_id=new_id(),
        purchase_order=pb.PurchaseOrder(supplier=supplier, warehouse=warehouse, lines=lines),
    )

    denied = harness.refused(buying.orders.CreatePurchaseOrder, create, metadata=clerk, timeout=10)
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    order = buying.orders.CreatePurchaseOrder(create, metadata=buyer, timeout=10).purchase_order
    submit = pb.SubmitPurchaseOrderRequest(request_id=new_id(), name=order.name)
    assert harness.refused(buying.orders.SubmitPurchaseOrder, submit, metadata=clerk, timeout=10).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    buying.orders.SubmitPurchaseOrder(submit, metadata=buyer, timeout=10)

    receive = pb.ReceivePurchaseOrderRequest(
        request_id=new_id(), name=order.name, lines=[pb.ReceiptLine(sku=a, quantity=2)]
    )
    assert harness.refused(buying.orders.ReceivePurchaseOrder, receive, metadata=buyer, timeout=10).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    received = buying.orders.ReceivePurchaseOrder(receive, metadata=clerk, timeout=15)
    assert received.receipt.state == pb.RECEIPT_STATE_BOOKED
    assert buying.world.level(warehouse, a).on_hand == 2


def test_buyer_cancels_drafts_only(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a)
    buyer = buying.world.as_role(user_pb2.ROLE_BUYER)
    draft = buying.order(supplier, warehouse, [(a, 1)], submit=False)
    submitted = buying.order(supplier, warehouse, [(a, 1)])

    cancelled = buying.orders.CancelPurchaseOrder(
        pb.CancelPurchaseOrderRequest(request_id=new_id(), name=draft.name, reason="typo"),
        metadata=buyer,
        timeout=10,
    ).purchase_order
    assert (cancelled.state, cancelled.end_reason) == (pb.PURCHASE_ORDER_STATE_CANCELLED, "typo")
    cancel = pb.CancelPurchaseOrderRequest(request_id=new_id(), name=submitted.name)
    assert harness.refused(buying.orders.CancelPurchaseOrder, cancel, metadata=buyer, timeout=10).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    manager = buying.world.as_role(user_pb2.ROLE_MANAGER)
    assert buying.orders.CancelPurchaseOrder(cancel, metadata=manager, timeout=10).purchase_order.state == (
        pb.PURCHASE_ORDER_STATE_CANCELLED
    )


def test_another_tenant_sees_nothing(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a)
    order = buying.order(supplier, warehouse, [(a, 1)])
    stranger = buying.world.other_tenant().as_role()

    for call, request in [
        (buying.orders.GetPurchaseOrder, pb.GetPurchaseOrderRequest(name=order.name)),
        (buying.suppliers.GetSupplier, pb.GetSupplierRequest(name=supplier)),
    ]:
        assert harness.refused(call, request, metadata=stranger, timeout=10).code == grpc.StatusCode.NOT_FOUND
