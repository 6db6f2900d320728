"""The items a supplier sells: create, read, list, update, archive."""

from __future__ import annotations

import pytest

from kit import errors
from svc_procure import commands
from svc_procure.domain.suppliers import Status
from svc_procure.names import item_etag
from tests.unit.procure.conftest import Procure, rid


def update(
    item_id: str, supplier_id: str, etag: str, paths: tuple[str, ...], **given: object
) -> commands.UpdateSupplierItem:
    values: dict[str, object] = {
        "supplier_sku": "",
        "currency_code": "EUR",
        "unit_cost_nanos": None,
        "lead_time_days": None,
        "minimum_order_quantity": 0,
        "pack_size": 0,
        "preferred": False,
    }
    return commands.UpdateSupplierItem(supplier_id, item_id, etag, paths, **(values | given))  # type: ignore[arg-type]


async def test_a_new_item_takes_one_for_unset_order_terms(procure: Procure) -> None:
    supplier = await procure.supplier()
    item = await procure.item(supplier, "A", moq=0, pack=0)
    assert (item.minimum_order_quantity, item.pack_size, item.status) == (1, 1, Status.ACTIVE)
    assert await procure.items.get(procure.buyer, supplier.id, item.id) == item


async def test_bad_input_names_every_bad_field_at_once(procure: Procure) -> None:
    supplier = await procure.supplier()
    cmd = commands.CreateSupplierItem(supplier.id, "NOPE", " ", "USD", -1, 400, -1, -2, False)
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.items.create(procure.buyer, rid(), cmd)
    assert sorted(v.field for v in refused.value.violations) == [
        "supplier_item.lead_time",
        "supplier_item.minimum_order_quantity",
        "supplier_item.pack_size",
        "supplier_item.sku",
        "supplier_item.supplier_sku",
        "supplier_item.unit_cost",
        "supplier_item.unit_cost.currency_code",
    ]
    assert procure.state.items == {}


async def test_an_item_of_a_missing_supplier_is_not_found(procure: Procure) -> None:
    cmd = commands.CreateSupplierItem("nope", "A", "X", "EUR", 1, None, 1, 1, False)
    with pytest.raises(errors.NotFound):
        await procure.items.create(procure.buyer, rid(), cmd)


async def test_an_archived_supplier_takes_no_new_items(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.suppliers.set_archived(
        procure.buyer, rid(), commands.SetArchived(supplier.id, "", archived=True)
    )
    with pytest.raises(errors.FailedPrecondition) as refused:
        await procure.item(supplier, "A")
    assert refused.value.reason == "SUPPLIER_ARCHIVED"


async def test_a_second_item_of_the_same_sku_is_refused_as_existing(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    with pytest.raises(errors.AlreadyExists) as refused:
        await procure.item(supplier, "A")
    assert refused.value.reason == "SUPPLIER_ITEM_EXISTS"
    assert len(procure.state.items) == 1


async def test_a_repeated_request_id_returns_the_first_item_and_changes_nothing(procure: Procure) -> None:
    supplier = await procure.supplier()
    cmd = commands.CreateSupplierItem(supplier.id, "A", "X-A", "EUR", 1, None, 1, 1, False)
    request_id = rid()
    first = await procure.items.create(procure.buyer, request_id, cmd)
    assert await procure.items.create(procure.buyer, request_id, cmd) == first
    assert len(procure.state.items) == 1


async def test_items_of_every_supplier_list_by_supplier_then_sku_in_pages(procure: Procure) -> None:
    one, two = await procure.supplier(), await procure.supplier()
    made = [await procure.item(one, "B"), await procure.item(one, "A"), await procure.item(two, "A")]
    expected = sorted(made, key=lambda i: (i.supplier_id, i.sku, i.id))
    first = await procure.items.list_items(procure.buyer, commands.ListQuery(2, ""))
    rest = await procure.items.list_items(procure.buyer, commands.ListQuery(2, first.next_page_token))
    assert first.items + rest.items == expected
    assert rest.next_page_token == ""
    by_sku = await procure.items.list_items(procure.buyer, commands.ListQuery(10, "", sku="A"))
    assert {i.supplier_id for i in by_sku.items} == {one.id, two.id}


async def test_an_item_page_token_reused_with_another_sku_or_supplier_is_refused(procure: Procure) -> None:
    one, two = await procure.supplier(), await procure.supplier()
    for supplier in (one, two):
        await procure.item(supplier, "A")
    first = await procure.items.list_items(procure.buyer, commands.ListQuery(1, "", sku="A"))

    for other in [
        commands.ListQuery(1, first.next_page_token, sku="B"),
        commands.ListQuery(1, first.next_page_token, sku="A", parent_id=one.id),
    ]:
        with pytest.raises(errors.InvalidArgument) as refused:
            await procure.items.list_items(procure.buyer, other)
        assert [v.field for v in refused.value.violations] == ["page_token"]
    rest = await procure.items.list_items(
        procure.buyer, commands.ListQuery(1, first.next_page_token, sku="A")
    )
    assert {i.supplier_id for i in first.items + rest.items} == {one.id, two.id}


async def test_an_item_update_changes_only_the_masked_fields(procure: Procure) -> None:
    supplier = await procure.supplier()
    item = await procure.item(supplier, "A", moq=5)
    cmd = update(
        item.id, supplier.id, item_etag(item), ("lead_time", "preferred"), lead_time_days=4, preferred=True
    )
    changed = await procure.items.update(procure.buyer, rid(), cmd)
    assert (changed.lead_time_days, changed.preferred, changed.minimum_order_quantity) == (4, True, 5)
    assert changed.version == 2


async def test_an_item_update_names_the_bad_cost_and_its_currency_together(procure: Procure) -> None:
    supplier = await procure.supplier()
    item = await procure.item(supplier, "A")
    cmd = update(item.id, supplier.id, "", ("unit_cost", "pack_size"), currency_code="USD", pack_size=-1)
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.items.update(procure.buyer, rid(), cmd)
    assert [v.field for v in refused.value.violations] == [
        "supplier_item.unit_cost",
        "supplier_item.pack_size",
        "supplier_item.unit_cost.currency_code",
    ]


async def test_an_item_update_to_a_taken_supplier_sku_is_refused(procure: Procure) -> None:
    supplier = await procure.supplier()
    await procure.item(supplier, "A")
    b = await procure.item(supplier, "B")
    with pytest.raises(errors.AlreadyExists) as refused:
        await procure.items.update(
            procure.buyer, rid(), update(b.id, supplier.id, "", ("supplier_sku",), supplier_sku="X-A")
        )
    assert (refused.value.reason, refused.value.field) == (
        "SUPPLIER_ITEM_EXISTS",
        "supplier_item.supplier_sku",
    )


async def test_an_item_update_with_a_stale_etag_is_aborted(procure: Procure) -> None:
    supplier = await procure.supplier()
    item = await procure.item(supplier, "A")
    await procure.items.update(
        procure.buyer, rid(), update(item.id, supplier.id, "", ("preferred",), preferred=True)
    )
    with pytest.raises(errors.Aborted):
        await procure.items.update(
            procure.buyer, rid(), update(item.id, supplier.id, item_etag(item), ("preferred",))
        )


async def test_archiving_an_item_drops_its_preference_and_twice_changes_nothing(procure: Procure) -> None:
    supplier = await procure.supplier()
    item = await procure.item(supplier, "A", preferred=True)
    archive = commands.SetArchived(supplier.id, "", archived=True, item_id=item.id)
    archived = await procure.items.set_archived(procure.buyer, rid(), archive)
    assert (archived.status, archived.preferred, archived.version) == (Status.ARCHIVED, False, 2)
    assert await procure.items.set_archived(procure.buyer, rid(), archive) == archived
    with pytest.raises(errors.NotFound):
        await procure.items.set_archived(
            procure.buyer, rid(), commands.SetArchived(supplier.id, "", archived=True, item_id="nope")
        )
