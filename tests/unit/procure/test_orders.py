"""Purchase orders over their lifecycle: create, update, submit, cancel, close, list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clients.catalog import not_in_catalog
from kit import errors
from svc_procure import commands
from svc_procure.domain.orders import PurchaseOrderState
from svc_procure.names import order_etag
from tests.unit.procure.conftest import WAREHOUSE, Procure, rid

S = PurchaseOrderState


def create(
    supplier_id: str, lines: list[tuple[str, int]], warehouse: str = WAREHOUSE
) -> commands.CreatePurchaseOrder:
    return commands.CreatePurchaseOrder(
        supplier_id, warehouse, tuple(commands.NewLine(s, q) for s, q in lines), "REF-1", "note"
    )


def relines(
    order_id: str, etag: str, lines: list[tuple[str, int]], *paths: str
) -> commands.UpdatePurchaseOrder:
    new = tuple(commands.NewLine(s, q) for s, q in lines)
    return commands.UpdatePurchaseOrder(order_id, etag, paths or ("lines",), "", new, None, "", "later")


async def test_a_new_order_is_a_draft_at_the_items_costs(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A", cost=1_500_000_000)
    await procure.item(supplier, "B", cost=10_050_000_000, pack=5)
    order = await procure.orders.create(procure.buyer, rid(), create(supplier.id, [("A", 10), ("B", 5)]))
    assert (order.state, order.currency_code, order.supplier_reference) == (S.DRAFT, "EUR", "REF-1")
    assert order.total_nanos == 65_250_000_000
    assert order.number == f"PO-20260302-{order.id[:8].upper()}"
    assert await procure.orders.get(procure.buyer, order.id) == order


async def test_a_line_below_the_minimum_and_off_the_pack_size_names_both(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A", moq=10, pack=4)
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.orders.create(procure.buyer, rid(), create(supplier.id, [("A", 7)]))
    assert [(v.type, v.subject, v.description) for v in refused.value.violations] == [
        ("BELOW_MINIMUM_ORDER_QUANTITY", "A", "ordered 7, minimum 10"),
        ("NOT_PACK_MULTIPLE", "A", "ordered 7, pack size 4"),
    ]
    assert refused.value.reason == "BELOW_MINIMUM_ORDER_QUANTITY"
    assert procure.state.orders == {}


async def test_bad_input_names_the_supplier_the_warehouse_the_sku_and_the_quantity_at_once(
    procure: Procure,
) -> None:
    cmd = create("nope", [("A", 0), ("UNKNOWN", 1), ("A", 1)], warehouse="gone")
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.orders.create(procure.buyer, rid(), cmd)
    assert [(v.field, v.description) for v in refused.value.violations] == [
        ("purchase_order.lines[0].quantity_ordered", "at least 1"),
        ("purchase_order.lines[2].sku", "a SKU may appear on one line only"),
        ("purchase_order.lines[1].sku", not_in_catalog("UNKNOWN")),
        ("purchase_order.warehouse", "no such warehouse"),
        ("purchase_order.supplier", "no such supplier"),
    ]
    assert procure.state.orders == {}


async def test_an_archived_warehouse_or_supplier_takes_no_orders(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    with pytest.raises(errors.FailedPrecondition) as warehouse:
        await procure.orders.create(
            procure.buyer, rid(), create(supplier.id, [("A", 1)], warehouse="archived")
        )
    assert warehouse.value.reason == "WAREHOUSE_ARCHIVED"
    await procure.suppliers.set_archived(
        procure.buyer, rid(), commands.SetArchived(supplier.id, "", archived=True)
    )
    with pytest.raises(errors.FailedPrecondition) as archived:
        await procure.orders.create(procure.buyer, rid(), create(supplier.id, [("A", 1)]))
    assert archived.value.reason == "SUPPLIER_ARCHIVED"


async def test_a_repeated_request_id_returns_the_first_order_and_changes_nothing(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    cmd, request_id = create(supplier.id, [("A", 1)]), rid()
    first = await procure.orders.create(procure.buyer, request_id, cmd)
    procure.clock.advance(minutes=1)
    assert await procure.orders.create(procure.buyer, request_id, cmd) == first
    assert list(procure.state.orders.values()) == [first]


async def test_submitting_expects_delivery_after_the_slowest_lines_lead_time(procure: Procure) -> None:
    supplier = await procure.supplier(lead_days=7)
    await procure.item(supplier, "A", lead_days=2)
    await procure.item(supplier, "B")
    order = await procure.order(supplier, [("A", 1), ("B", 1)])
    assert (order.state, order.submitted_at, order.version) == (S.SUBMITTED, procure.clock.now, 2)
    assert order.expected_delivery_at == procure.clock.now + timedelta(days=7)


async def test_submitting_rechecks_the_lines_against_items_archived_since(procure: Procure) -> None:
    supplier = await procure.supplier()
    item = await procure.item(supplier, "A")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    archive = commands.SetArchived(supplier.id, "", archived=True, item_id=item.id)
    await procure.items.set_archived(procure.buyer, rid(), archive)
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.orders.submit(procure.buyer, rid(), commands.Transition(draft.id, order_etag(draft)))
    assert refused.value.reason == "NO_SUPPLIER_ITEM"


async def test_submitting_a_draft_into_a_warehouse_archived_since_is_refused(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    procure.stock.warehouses[draft.warehouse_id] = False
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.orders.submit(procure.buyer, rid(), commands.Transition(draft.id, ""))
    assert refused.value.reason == "WAREHOUSE_ARCHIVED"


async def test_a_stale_etag_or_a_second_submit_is_refused(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    await procure.orders.update(procure.buyer, rid(), relines(draft.id, "", [], "note"))
    with pytest.raises(errors.Aborted):
        await procure.orders.submit(procure.buyer, rid(), commands.Transition(draft.id, order_etag(draft)))
    await procure.orders.submit(procure.buyer, rid(), commands.Transition(draft.id, ""))
    with pytest.raises(errors.FailedPrecondition) as again:
        await procure.orders.submit(procure.buyer, rid(), commands.Transition(draft.id, ""))
    assert again.value.reason == "INVALID_STATE_TRANSITION"


async def test_a_draft_takes_new_lines_and_a_submitted_order_only_other_fields(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    await procure.item(supplier, "B")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    changed = await procure.orders.update(
        procure.buyer, rid(), relines(draft.id, order_etag(draft), [("A", 2), ("B", 3)])
    )
    assert [(line.sku, line.quantity_ordered) for line in changed.lines] == [("A", 2), ("B", 3)]
    assert (changed.note, changed.version) == (draft.note, 2)
    submitted = await procure.orders.submit(procure.buyer, rid(), commands.Transition(draft.id, ""))
    with pytest.raises(errors.FailedPrecondition) as not_draft:
        await procure.orders.update(procure.buyer, rid(), relines(submitted.id, "", [("A", 5)]))
    assert not_draft.value.reason == "PURCHASE_ORDER_NOT_DRAFT"
    noted = await procure.orders.update(procure.buyer, rid(), relines(submitted.id, "", [], "note"))
    assert (noted.note, noted.lines) == ("later", submitted.lines)


async def test_a_cancelled_order_takes_no_updates(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    await procure.orders.cancel(procure.buyer, rid(), commands.Transition(draft.id, "", "typo"))
    with pytest.raises(errors.FailedPrecondition) as final:
        await procure.orders.update(procure.buyer, rid(), relines(draft.id, "", [], "note"))
    assert final.value.reason == "PURCHASE_ORDER_FINAL"


async def test_a_buyer_cancels_drafts_only_and_a_manager_cancels_submitted_orders(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    draft = await procure.order(supplier, [("A", 1)], submit=False)
    cancelled = await procure.orders.cancel(procure.buyer, rid(), commands.Transition(draft.id, "", "typo"))
    assert (cancelled.state, cancelled.end_reason, cancelled.ended_at) == (
        S.CANCELLED,
        "typo",
        procure.clock.now,
    )
    submitted = await procure.order(supplier, [("A", 1)])
    with pytest.raises(errors.PermissionDenied):
        await procure.orders.cancel(procure.buyer, rid(), commands.Transition(submitted.id, ""))
    assert (await procure.orders.get(procure.buyer, submitted.id)).state is S.SUBMITTED
    by_manager = await procure.orders.cancel(procure.manager, rid(), commands.Transition(submitted.id, ""))
    assert by_manager.state is S.CANCELLED


async def test_only_a_partially_received_order_can_be_closed(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    order = await procure.order(supplier, [("A", 10)])
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.orders.close(procure.manager, rid(), commands.Transition(order.id, "", "short"))
    assert refused.value.reason == "INVALID_STATE_TRANSITION"
    receive = commands.ReceivePurchaseOrder(order.id, (commands.NewLine("A", 4),), "", "", "")
    await procure.receiving.receive(procure.clerk, rid(), receive)
    closed = await procure.orders.close(procure.manager, rid(), commands.Transition(order.id, "", "short"))
    assert (closed.state, closed.end_reason) == (S.CLOSED, "short")


async def test_orders_list_newest_first_filtered_by_sku_and_state(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    await procure.item(supplier, "B")
    made = []
    for lines in ([("A", 1)], [("A", 1), ("B", 1)], [("B", 1)]):
        made.append(await procure.order(supplier, lines, submit=False))
        procure.clock.advance(minutes=1)
    first = await procure.orders.list_orders(procure.buyer, commands.ListQuery(1, "", sku="A"))
    rest = await procure.orders.list_orders(
        procure.buyer, commands.ListQuery(1, first.next_page_token, sku="A")
    )
    assert [o.id for o in first.items + rest.items] == [made[1].id, made[0].id]
    assert rest.next_page_token == ""
    none = await procure.orders.list_orders(procure.buyer, commands.ListQuery(10, "", states=("submitted",)))
    assert none.items == []


async def test_a_page_token_reused_with_another_sku_state_or_warehouse_is_refused(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    await procure.item(supplier, "B")
    made = [await procure.order(supplier, [("A", 1)], submit=False) for _ in range(2)]
    first = await procure.orders.list_orders(procure.buyer, commands.ListQuery(1, "", sku="A"))
    token = first.next_page_token

    for other in [
        commands.ListQuery(1, token, sku="B"),
        commands.ListQuery(1, token, sku="A", states=(S.DRAFT.value,)),
        commands.ListQuery(1, token, sku="A", warehouse_id="archived"),
    ]:
        with pytest.raises(errors.InvalidArgument) as refused:
            await procure.orders.list_orders(procure.buyer, other)
        assert [v.field for v in refused.value.violations] == ["page_token"]
    rest = await procure.orders.list_orders(procure.buyer, commands.ListQuery(5, token, sku="A"))
    assert {o.id for o in first.items + rest.items} == {o.id for o in made}


async def test_too_many_lines_are_refused_without_asking_the_catalog(procure: Procure) -> None:
    supplier = await procure.supplier()
    lines = [(f"S{n}", 1) for n in range(501)]
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.orders.create(procure.buyer, rid(), create(supplier.id, lines))
    assert [(v.field, v.description) for v in refused.value.violations] == [
        ("purchase_order.lines", "at most 500 lines")
    ]
    assert procure.catalog.asked == []
