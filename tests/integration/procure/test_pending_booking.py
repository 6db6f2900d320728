"""A receipt whose booking cannot reach svc_stock stays PENDING, survives a
restart of svc_procure, and is booked exactly once when svc_stock is back."""

from __future__ import annotations

import time

from stockmesh.procure.v1 import procure_pb2 as pb
from tests.conftest import Stacks
from tests.integration.procure.conftest import Buying, procure_stack
from tests.integration.stock.conftest import stock_stack, world_of


def test_pending_receipt_is_booked_once_after_stock_and_procure_restart(stacks: Stacks) -> None:
    stock = stock_stack(stacks, "postgresql", variant="-flaky")
    procure = procure_stack(stacks, variant="-flaky", stock_address=stock.address)
    for world in world_of(stock, stacks, "postgresql"):
        with procure.channel() as channel:
            buying = Buying(world, channel)
            (a,) = world.skus(1)
            warehouse = world.warehouse()
            supplier = buying.supplier()
            buying.item(supplier, a)
            order = buying.order(supplier, warehouse, [(a, 10)])

            stock.stop()
            pending = buying.receive(order.name, [(a, 7)])
            assert pending.receipt.state == pb.RECEIPT_STATE_PENDING
            assert pending.purchase_order.state == pb.PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED
            procure.stop()

        stock.start(migrate=False)
        procure.start(migrate=False)
        with procure.channel() as channel:
            buying = Buying(world, channel)
            deadline = time.monotonic() + 30
            receipt = pending.receipt
            while receipt.state != pb.RECEIPT_STATE_BOOKED and time.monotonic() < deadline:
                time.sleep(0.3)
                receipt = buying.orders.GetReceipt(
                    pb.GetReceiptRequest(name=pending.receipt.name), metadata=world.as_role(), timeout=10
                ).receipt
            assert receipt.state == pb.RECEIPT_STATE_BOOKED
            assert len(buying.receipts_in_ledger(warehouse, a)) == 1
            assert world.level(warehouse, a).on_hand == 7
