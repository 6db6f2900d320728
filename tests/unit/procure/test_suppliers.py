"""Suppliers: create, read, list, update, archive."""

from __future__ import annotations

import pytest

from kit import errors
from svc_procure import commands
from svc_procure.domain.suppliers import Status
from svc_procure.names import supplier_etag
from tests.unit.procure.conftest import Procure, person, rid


async def test_a_new_supplier_is_active_at_version_one(procure: Procure) -> None:
    created = await procure.supplier(lead_days=5)
    assert (created.status, created.version, created.default_lead_time_days) == (Status.ACTIVE, 1, 5)
    assert await procure.suppliers.get(procure.buyer, created.id) == created


async def test_bad_input_names_every_bad_field_and_stores_nothing(procure: Procure) -> None:
    cmd = commands.CreateSupplier(" ", "", "", "", "euro", 400, "")
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.suppliers.create(procure.buyer, rid(), cmd)
    assert [v.field for v in refused.value.violations] == [
        "supplier.display_name",
        "supplier.currency_code",
        "supplier.default_lead_time",
    ]
    assert procure.state.suppliers == {}


async def test_a_repeated_request_id_returns_the_first_supplier_and_changes_nothing(procure: Procure) -> None:
    cmd = commands.CreateSupplier("Acme", "", "", "", "EUR", 7, "")
    request_id = rid()
    first = await procure.suppliers.create(procure.buyer, request_id, cmd)
    again = await procure.suppliers.create(procure.buyer, request_id, cmd)
    assert again == first
    assert len(procure.state.suppliers) == 1


async def test_a_request_id_reused_for_another_command_is_refused(procure: Procure) -> None:
    request_id = rid()
    await procure.suppliers.create(
        procure.buyer, request_id, commands.CreateSupplier("A", "", "", "", "EUR", 7, "")
    )
    with pytest.raises(errors.InvalidArgument) as refused:
        await procure.suppliers.create(
            procure.buyer, request_id, commands.CreateSupplier("B", "", "", "", "EUR", 7, "")
        )
    assert refused.value.reason == "REQUEST_ID_REUSED"


async def test_another_tenant_does_not_find_the_supplier(procure: Procure) -> None:
    created = await procure.supplier()
    with pytest.raises(errors.NotFound):
        await procure.suppliers.get(person(tenant="t2"), created.id)


async def test_lists_filter_by_word_prefixes_and_page_by_name(procure: Procure) -> None:
    for name in ("Zeta Tools", "Alpha Parts", "Alpine Metals"):
        await procure.supplier(name=name)
    first = await procure.suppliers.list_suppliers(procure.buyer, commands.ListQuery(1, "", query="alp"))
    assert [s.display_name for s in first.items] == ["Alpha Parts"]
    rest = await procure.suppliers.list_suppliers(
        procure.buyer, commands.ListQuery(1, first.next_page_token, query="alp")
    )
    assert ([s.display_name for s in rest.items], rest.next_page_token) == (["Alpine Metals"], "")


async def test_a_page_token_reused_with_another_query_or_status_is_refused(procure: Procure) -> None:
    for name in ("Zeta Tools", "Alpha Parts", "Alpine Metals"):
        await procure.supplier(name=name)
    first = await procure.suppliers.list_suppliers(procure.buyer, commands.ListQuery(1, "", query="alp"))

    for other in [
        commands.ListQuery(1, first.next_page_token, query="zet"),
        commands.ListQuery(1, first.next_page_token, query="alp", status=Status.ARCHIVED.value),
    ]:
        with pytest.raises(errors.InvalidArgument) as refused:
            await procure.suppliers.list_suppliers(procure.buyer, other)
        assert [v.field for v in refused.value.violations] == ["page_token"]
    # the query's words are read case-insensitively: "ALP" asks for the same suppliers
    rest = await procure.suppliers.list_suppliers(
        procure.buyer, commands.ListQuery(1, first.next_page_token, query="ALP")
    )
    assert [s.display_name for s in first.items + rest.items] == ["Alpha Parts", "Alpine Metals"]


async def test_an_update_changes_the_given_fields_and_the_version(procure: Procure) -> None:
    created = await procure.supplier()
    cmd = commands.UpdateSupplier(
        created.id, supplier_etag(created), contact_name=" Ada ", default_lead_time_days=3
    )
    changed = await procure.suppliers.update(procure.buyer, rid(), cmd)
    assert (changed.contact_name, changed.default_lead_time_days, changed.display_name) == ("Ada", 3, "Acme")
    assert changed.version == 2
    assert await procure.suppliers.get(procure.buyer, created.id) == changed


async def test_an_update_with_a_stale_etag_is_aborted(procure: Procure) -> None:
    created = await procure.supplier()
    await procure.suppliers.update(procure.buyer, rid(), commands.UpdateSupplier(created.id, "", note="x"))
    stale = commands.UpdateSupplier(created.id, supplier_etag(created), note="y")
    with pytest.raises(errors.Aborted):
        await procure.suppliers.update(procure.buyer, rid(), stale)
    assert (await procure.suppliers.get(procure.buyer, created.id)).note == "x"


async def test_an_update_of_a_missing_supplier_is_not_found(procure: Procure) -> None:
    with pytest.raises(errors.NotFound):
        await procure.suppliers.update(procure.buyer, rid(), commands.UpdateSupplier("nope", "", note="x"))


async def test_archiving_twice_changes_nothing_the_second_time(procure: Procure) -> None:
    created = await procure.supplier()
    archive = commands.SetArchived(created.id, "", archived=True)
    archived = await procure.suppliers.set_archived(procure.buyer, rid(), archive)
    assert (archived.status, archived.archived_at, archived.version) == (
        Status.ARCHIVED,
        procure.clock.now,
        2,
    )
    procure.clock.advance(hours=1)
    again = await procure.suppliers.set_archived(procure.buyer, rid(), archive)
    assert again == archived
    back = await procure.suppliers.set_archived(
        procure.buyer, rid(), commands.SetArchived(created.id, supplier_etag(again), archived=False)
    )
    assert (back.status, back.archived_at, back.version) == (Status.ACTIVE, None, 3)


async def test_archiving_with_a_stale_etag_is_aborted_even_when_nothing_would_change(
    procure: Procure,
) -> None:
    created = await procure.supplier()
    stale = supplier_etag(created)
    await procure.suppliers.update(procure.buyer, rid(), commands.UpdateSupplier(created.id, "", note="x"))
    with pytest.raises(errors.Aborted):
        await procure.suppliers.set_archived(
            procure.buyer, rid(), commands.SetArchived(created.id, stale, archived=False)
        )
