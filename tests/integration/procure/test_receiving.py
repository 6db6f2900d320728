"""Purchase orders end to end: submit, partial receipts, stock booked exactly once."""

from __future__ import annotations

import grpc

from stockmesh.procure.v1 import procure_pb2 as pb
from tests import harness
from tests.conftest import new_id
from tests.integration.procure.conftest import Buying

PO = pb.PurchaseOrderState


def test_order_submit_two_partial_receipts_then_received(buying: Buying) -> None:
    a, b = buying.world.skus(2)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a, cents=150)
    buying.item(supplier, b, cents=1005, pack=5)
    order = buying.order(supplier, warehouse, [(a, 10), (b, 5)])
    assert order.state == PO.PURCHASE_ORDER_STATE_SUBMITTED
    assert (order.total.units, order.total.nanos) == (65, 250_000_000)  # 10 * 1.50 + 5 * 10.05

    first = buying.receive(order.name, [(a, 4)])
    assert first.purchase_order.state == PO.PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED
    assert first.receipt.state == pb.RECEIPT_STATE_BOOKED
    second = buying.receive(order.name, [(a, 6), (b, 5)])
    assert second.purchase_order.state == PO.PURCHASE_ORDER_STATE_RECEIVED
    assert len(second.receipt.stock_movements) == 2

    assert buying.world.level(warehouse, a).on_hand == 10
    assert buying.world.level(warehouse, b).on_hand == 5
    assert [m.quantity_delta for m in buying.receipts_in_ledger(warehouse, a)] in ([4, 6], [6, 4])


def test_over_receipt_is_refused_naming_the_line(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a)
    order = buying.order(supplier, warehouse, [(a, 10)])
    buying.receive(order.name, [(a, 8)])

    refused = harness.refused(buying.receive, order.name, [(a, 5)])
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "OVER_RECEIPT"
    assert [(v.subject, v.description) for v in refused.precondition_violations] == [
        (a, "ordered 10, received 8, receiving 5")
    ]
    assert buying.world.level(warehouse, a).on_hand == 8


def test_a_retried_receipt_books_once(buying: Buying) -> None:
    (a,) = buying.world.skus(1)
    warehouse = buying.world.warehouse()
    supplier = buying.supplier()
    buying.item(supplier, a)
    order = buying.order(supplier, warehouse, [(a, 10)])
    request_id = new_id()

    first = buying.receive(order.name, [(a, 3)], request_id=request_id)
    again = buying.receive(order.name, [(a, 3)], request_id=request_id)  # the response was "lost"

    assert again.receipt.name == first.receipt.name
    assert list(again.receipt.stock_movements) == list(first.receipt.stock_movements)
    assert len(buying.receipts_in_ledger(warehouse, a)) == 1
    assert buying.world.level(warehouse, a).on_hand == 3
