"""Warehouses: created once per code, read, listed, renamed, archived."""

from __future__ import annotations

import copy

import pytest

from kit import errors
from svc_stock import commands
from svc_stock.domain import Address, WarehouseStatus
from svc_stock.usecases.warehouses import warehouse_etag
from tests.unit.stock.conftest import MANAGER, Shop


def create(code: str, name: str = "Main") -> commands.CreateWarehouse:
    return commands.CreateWarehouse(code, name, Address(("1 Quay",), "Lyon"))


async def test_a_warehouse_is_created_active_with_its_code_upper_cased(shop: Shop) -> None:
    created = await shop.warehouses.create(MANAGER, "c-1", create(" lyo-1 "))

    assert (created.code, created.status, created.version) == ("LYO-1", WarehouseStatus.ACTIVE, 1)
    assert await shop.warehouses.get(MANAGER, created.id) == created


async def test_a_repeated_request_id_returns_the_first_warehouse_and_changes_nothing(shop: Shop) -> None:
    first = await shop.warehouses.create(MANAGER, "c-1", create("LYO"))
    before = copy.deepcopy(shop.memory.state)

    again = await shop.warehouses.create(MANAGER, "c-1", create("LYO"))

    assert again == first
    assert shop.memory.state == before


async def test_a_code_already_taken_is_refused(shop: Shop) -> None:
    await shop.warehouses.create(MANAGER, "c-1", create("LYO"))

    with pytest.raises(errors.AlreadyExists) as refused:
        await shop.warehouses.create(MANAGER, "c-2", create("LYO"))

    assert refused.value.reason == "WAREHOUSE_CODE_TAKEN"


async def test_bad_input_names_every_violation(shop: Shop) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await shop.warehouses.create(MANAGER, "c-1", create("no spaces!", " "))

    assert [v.field for v in refused.value.violations] == ["warehouse.code", "warehouse.display_name"]


async def test_an_unknown_warehouse_is_not_found(shop: Shop) -> None:
    with pytest.raises(errors.NotFound):
        await shop.warehouses.get(MANAGER, "nope")


async def test_warehouses_are_listed_by_code_in_pages(shop: Shop) -> None:
    for code in ("C", "A", "B"):
        await shop.warehouses.create(MANAGER, f"c-{code}", create(code))

    first = await shop.warehouses.list_warehouses(MANAGER, commands.ListWarehouses(2, "", None, ""))
    rest = await shop.warehouses.list_warehouses(
        MANAGER, commands.ListWarehouses(2, first.next_page_token, None, "")
    )

    assert [w.code for w in first.items + rest.items] == ["A", "B", "C"]
    assert rest.next_page_token == ""


async def test_a_rename_with_the_current_etag_bumps_the_version_and_a_stale_one_is_refused(
    shop: Shop,
) -> None:
    created = await shop.warehouses.create(MANAGER, "c-1", create("LYO"))

    renamed = await shop.warehouses.update(
        MANAGER, "u-1", commands.UpdateWarehouse(created.id, warehouse_etag(created), display_name="Lyon")
    )
    with pytest.raises(errors.EtagMismatch):
        await shop.warehouses.update(
            MANAGER, "u-2", commands.UpdateWarehouse(created.id, warehouse_etag(created), display_name="Old")
        )

    assert (renamed.display_name, renamed.address, renamed.version) == ("Lyon", created.address, 2)
    assert (await shop.warehouses.get(MANAGER, created.id)).display_name == "Lyon"


async def test_a_warehouse_holding_stock_cannot_be_archived(shop: Shop) -> None:
    w = await shop.warehouse()
    await shop.receive(w, "A", 1)

    with pytest.raises(errors.FailedPrecondition) as refused:
        await shop.warehouses.set_archived(MANAGER, "a-1", commands.SetArchived(w, "", archived=True))

    assert refused.value.reason == "WAREHOUSE_NOT_EMPTY"


async def test_an_archived_warehouse_can_be_unarchived(shop: Shop) -> None:
    w = await shop.warehouse()
    archived = await shop.warehouses.set_archived(MANAGER, "a-1", commands.SetArchived(w, "", archived=True))

    restored = await shop.warehouses.set_archived(
        MANAGER, "a-2", commands.SetArchived(w, warehouse_etag(archived), archived=False)
    )

    assert (archived.status, archived.archived_at) == (WarehouseStatus.ARCHIVED, shop.clock.now)
    assert (restored.status, restored.archived_at, restored.version) == (WarehouseStatus.ACTIVE, None, 3)
