"""Purchase order drafts from a replenishment proposal: one per supplier, all or none."""

from __future__ import annotations

import pytest

from kit import errors
from svc_procure import commands
from svc_procure.domain.orders import PurchaseOrderState
from svc_procure.domain.suppliers import SupplierItem
from svc_procure.names import supplier_name
from tests.unit.procure.conftest import WAREHOUSE, Procure, rid


def line(item: SupplierItem, quantity: int, sku: str | None = None) -> commands.ProposalLine:
    return commands.ProposalLine(sku or item.sku, item.supplier_id, item.id, quantity)


def proposal(*lines: commands.ProposalLine, warehouse: str = WAREHOUSE) -> commands.CreateFromProposal:
    return commands.CreateFromProposal(warehouse, lines, "from proposal")


async def test_one_draft_per_supplier_in_supplier_name_order(procure: Procure) -> None:
    one, two = await procure.supplier(), await procure.supplier()
    a1, b1, c2 = await procure.item(one, "A"), await procure.item(one, "B"), await procure.item(two, "C")
    made = await procure.drafts.create(procure.buyer, rid(), proposal(line(c2, 3), line(a1, 1), line(b1, 2)))
    expected = sorted(
        [(one.id, [("A", 1), ("B", 2)]), (two.id, [("C", 3)])], key=lambda g: supplier_name(g[0])
    )
    assert [(o.supplier_id, [(x.sku, x.quantity_ordered) for x in o.lines]) for o in made.orders] == expected
    assert {o.state for o in made.orders} == {PurchaseOrderState.DRAFT}
    assert {o.note for o in made.orders} == {"from proposal"}
    assert len(procure.state.orders) == 2


async def test_bad_lines_and_an_unknown_warehouse_are_named_together(procure: Procure) -> None:
    supplier = await procure.supplier()
    a = await procure.item(supplier, "A")
    missing = commands.ProposalLine("B", supplier.id, "nope", 1)
    cmd = proposal(line(a, 0), line(a, 1, sku="B"), missing, warehouse="gone")
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.drafts.create(procure.buyer, rid(), cmd)
    assert [v.field for v in refused.value.violations] == [
        "lines[0].quantity",
        "lines[2].sku",
        "warehouse",
        "lines[1].supplier_item",
        "lines[2].supplier_item",
    ]
    assert procure.state.orders == {}


async def test_archived_suppliers_and_items_are_each_named(procure: Procure) -> None:
    one, two = await procure.supplier(), await procure.supplier()
    a, c = await procure.item(one, "A"), await procure.item(two, "C")
    await procure.suppliers.set_archived(
        procure.buyer, rid(), commands.SetArchived(one.id, "", archived=True)
    )
    await procure.items.set_archived(
        procure.buyer, rid(), commands.SetArchived(two.id, "", archived=True, item_id=c.id)
    )
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.drafts.create(procure.buyer, rid(), proposal(line(a, 1), line(c, 1)))
    assert [(v.type, v.subject) for v in refused.value.violations] == [
        ("SUPPLIER_ARCHIVED", "A"),
        ("SUPPLIER_ITEM_ARCHIVED", "C"),
    ]
    assert procure.state.orders == {}


async def test_a_line_below_the_minimum_and_off_the_pack_size_names_both_and_makes_no_draft(
    procure: Procure,
) -> None:
    supplier = await procure.supplier()
    a, b = await procure.item(supplier, "A", moq=10, pack=4), await procure.item(supplier, "B")
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.drafts.create(procure.buyer, rid(), proposal(line(b, 1), line(a, 7)))
    assert [v.type for v in refused.value.violations] == ["BELOW_MINIMUM_ORDER_QUANTITY", "NOT_PACK_MULTIPLE"]
    assert procure.state.orders == {}


async def test_a_repeated_request_id_returns_the_first_drafts_and_changes_nothing(procure: Procure) -> None:
    supplier = await procure.supplier()
    a = await procure.item(supplier, "A")
    cmd, request_id = proposal(line(a, 1)), rid()
    first = await procure.drafts.create(procure.buyer, request_id, cmd)
    assert await procure.drafts.create(procure.buyer, request_id, cmd) == first
    assert len(procure.state.orders) == 1
