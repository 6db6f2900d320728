"""Receiving against purchase orders, and booking each receipt in svc_stock once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kit import errors
from svc_procure import commands
from svc_procure.domain.orders import PurchaseOrder, PurchaseOrderState, ReceiptState
from tests.unit.procure.conftest import WAREHOUSE, Procure, rid

S = PurchaseOrderState


def receiving(
    order: PurchaseOrder, lines: list[tuple[str, int]], etag: str = ""
) -> commands.ReceivePurchaseOrder:
    return commands.ReceivePurchaseOrder(
        order.id, tuple(commands.NewLine(s, q) for s, q in lines), "DN-1", "", etag
    )


async def submitted(procure: Procure, lines: list[tuple[str, int]]) -> PurchaseOrder:
    supplier = await procure.supplier()
    for sku, _ in lines:
        await procure.item(supplier, sku)
    return await procure.order(supplier, lines)


async def test_two_partial_receipts_receive_the_order_and_book_the_stock(procure: Procure) -> None:
    order = await submitted(procure, [("A", 10), ("B", 5)])
    first = await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", 4)]))
    assert (first.order.state, first.receipt.state) == (S.PARTIALLY_RECEIVED, ReceiptState.BOOKED)
    assert len(first.receipt.stock_movements) == 1
    second = await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", 6), ("B", 5)]))
    assert (second.order.state, second.order.ended_at) == (S.RECEIVED, procure.clock.now)
    assert [line.quantity_received for line in second.order.lines] == [10, 5]
    assert procure.stock.on_hand == {(WAREHOUSE, "A"): 10, (WAREHOUSE, "B"): 5}
    assert set(procure.stock.booked) == {f"receipt:{first.receipt.id}", f"receipt:{second.receipt.id}"}


async def test_an_over_receipt_is_refused_naming_the_line_and_books_nothing(procure: Procure) -> None:
    order = await submitted(procure, [("A", 10)])
    await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", 8)]))
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", 5)]))
    assert [(v.subject, v.description) for v in refused.value.violations] == [
        ("A", "ordered 10, received 8, receiving 5")
    ]
    assert procure.stock.on_hand == {(WAREHOUSE, "A"): 8}
    assert len(procure.state.receipts) == 1


async def test_a_line_not_on_the_order_and_a_zero_quantity_are_named_together(procure: Procure) -> None:
    order = await submitted(procure, [("A", 10)])
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", 0), ("B", 1)]))
    assert [v.field for v in refused.value.violations] == ["lines[0].quantity", "lines[1].sku"]
    with pytest.raises(errors.InvalidArgument) as empty:
        await procure.receiving.receive(procure.clerk, rid(), receiving(order, []))
    assert [v.field for v in empty.value.violations] == ["lines"]


async def test_a_draft_cannot_be_received_and_a_stale_etag_is_aborted(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.receiving.receive(procure.clerk, rid(), receiving(draft, [("A", 1)]))
    assert refused.value.reason == "PURCHASE_ORDER_NOT_OPEN"
    with pytest.raises(errors.Aborted):
        await procure.receiving.receive(procure.clerk, rid(), receiving(draft, [("A", 1)], etag="stale"))
    with pytest.raises(errors.NotFound):
        await procure.receiving.receive(
            procure.clerk, rid(), receiving(replace(draft, id="nope"), [("A", 1)])
        )


async def test_a_repeated_request_id_returns_the_first_receipt_and_books_once(procure: Procure) -> None:
    order = await submitted(procure, [("A", 10)])
    cmd, request_id = receiving(order, [("A", 3)]), rid()
    first = await procure.receiving.receive(procure.clerk, request_id, cmd)
    again = await procure.receiving.receive(procure.clerk, request_id, cmd)
    assert again == first
    assert procure.stock.on_hand == {(WAREHOUSE, "A"): 3}
    assert len(procure.state.receipts) == 1


async def test_a_receipt_svc_stock_cannot_take_stays_pending_and_the_loop_books_it_once(
    procure: Procure,
) -> None:
    order = await submitted(procure, [("A", 10)])
    procure.stock.reachable = False
    pending = await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", 7)]))
    assert (pending.receipt.state, pending.order.state) == (ReceiptState.PENDING, S.PARTIALLY_RECEIVED)
    assert await procure.booking.book_pending() == 0

    procure.stock.reachable = True
    procure.clock.advance(minutes=5)
    assert await procure.booking.book_pending() == 1
    assert await procure.booking.book_pending() == 0
    booked = await procure.receiving.get_receipt(procure.clerk, order.id, pending.receipt.id)
    assert (booked.state, booked.booked_at) == (ReceiptState.BOOKED, procure.clock.now)
    request_id = f"receipt:{pending.receipt.id}"
    assert booked.stock_movements == tuple(procure.stock.booked[request_id])
    assert procure.stock.booked_as == {request_id: order.tenant_id}  # system work in the receipt's tenant
    assert procure.stock.on_hand == {(WAREHOUSE, "A"): 7}


async def test_receipts_list_newest_first_by_order(procure: Procure) -> None:
    order = await submitted(procure, [("A", 10)])
    other = await submitted(procure, [("B", 10)])
    made = []
    for quantity in (1, 2):
        made.append(
            (
                await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", quantity)]))
            ).receipt
        )
        procure.clock.advance(minutes=1)
    await procure.receiving.receive(procure.clerk, rid(), receiving(other, [("B", 1)]))
    first = await procure.receiving.list_receipts(
        procure.clerk, commands.ListQuery(1, "", parent_id=order.id)
    )
    rest = await procure.receiving.list_receipts(
        procure.clerk, commands.ListQuery(1, first.next_page_token, parent_id=order.id)
    )
    assert [r.id for r in first.items + rest.items] == [made[1].id, made[0].id]
    with pytest.raises(errors.NotFound):
        await procure.receiving.get_receipt(procure.clerk, other.id, made[0].id)


async def test_a_receipt_page_token_reused_for_another_order_is_refused(procure: Procure) -> None:
    order = await submitted(procure, [("A", 10)])
    other = await submitted(procure, [("B", 10)])
    for quantity in (1, 2):
        await procure.receiving.receive(procure.clerk, rid(), receiving(order, [("A", quantity)]))
    first = await procure.receiving.list_receipts(
        procure.clerk, commands.ListQuery(1, "", parent_id=order.id)
    )

    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.receiving.list_receipts(
            procure.clerk, commands.ListQuery(1, first.next_page_token, parent_id=other.id)
        )
    assert [v.field for v in refused.value.violations] == ["page_token"]
    rest = await procure.receiving.list_receipts(
        procure.clerk, commands.ListQuery(1, first.next_page_token, parent_id=order.id)
    )
    assert len(rest.items) == 1
