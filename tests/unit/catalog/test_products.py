"""Products: creation with variants, update, archive and unarchive, on the fakes."""

from __future__ import annotations

import pytest

from kit import errors
from svc_catalog import commands
from svc_catalog.domain import ProductStatus, VariantStatus
from svc_catalog.usecases.names import product_etag
from tests.unit.catalog.conftest import ADMIN, OTHER_TENANT, Catalog, fields_of, new


async def test_a_new_product_is_active_with_its_variants_in_sku_order(catalog: Catalog) -> None:
    product = await catalog.create(new("b-2"), new("A-1", barcode="96385074"), name="Trail shoe")

    assert product.status is ProductStatus.ACTIVE
    assert product.version == 1
    assert product.created_at == product.updated_at == catalog.clock.now
    assert [v.sku for v in product.variants] == ["A-1", "b-2"]
    assert all(v.product_display_name == "Trail shoe" and v.unit_of_measure == "EA" for v in product.variants)
    assert await catalog.products.get_product(ADMIN, product.id) == product


async def test_bad_input_names_every_violation_at_once(catalog: Catalog) -> None:
    cmd = commands.CreateProduct(
        display_name=" ",
        description="",
        brand="",
        category="Shoes//Trail",
        variants=(new("bad sku!", barcode="12345678"), new("ok-1", unit_of_measure="each")),
    )

    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.products.create_product(ADMIN, "r-1", cmd)

    assert fields_of(refused.value) == [
        "product.display_name",
        "product.category",
        "product.variants[0].sku",
        "product.variants[0].barcode",
        "product.variants[1].unit_of_measure",
    ]
    assert catalog.memory.commits == 0


async def test_two_variants_of_one_request_may_not_share_a_sku_or_a_barcode(catalog: Catalog) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.create(new("SKU-1", barcode="96385074"), new("sku-1", barcode="0000096385074"))

    assert fields_of(refused.value) == ["product.variants[1].sku", "product.variants[1].barcode"]


async def test_a_sku_the_tenant_uses_is_refused_ignoring_case(catalog: Catalog) -> None:
    await catalog.create(new("RUN-1"))

    with pytest.raises(errors.AlreadyExists) as refused:
        await catalog.create(new("other-1"), new("run-1"))

    assert refused.value.reason == "SKU_TAKEN"
    assert refused.value.field == "product.variants[1].sku"
    assert len(catalog.memory.state.products) == 1


async def test_a_barcode_is_refused_as_the_same_gtin_written_longer(catalog: Catalog) -> None:
    await catalog.create(new("UPC-1", barcode="036000291452"))

    with pytest.raises(errors.AlreadyExists) as refused:
        await catalog.create(new("EAN-1", barcode="0036000291452"))

    assert refused.value.reason == "BARCODE_TAKEN"
    assert refused.value.field == "product.variants[0].barcode"


async def test_another_tenant_may_use_the_same_sku_and_barcode(catalog: Catalog) -> None:
    await catalog.create(new("RUN-1", barcode="96385074"))
    cmd = commands.CreateProduct("Shoe", "", "", "", (new("RUN-1", barcode="96385074"),))

    product = await catalog.products.create_product(OTHER_TENANT, "r-other", cmd)

    assert product.tenant_id == OTHER_TENANT.tenant_id
    with pytest.raises(errors.NotFound):
        await catalog.products.get_product(ADMIN, product.id)


async def test_a_repeated_request_id_returns_the_first_product_and_changes_nothing(catalog: Catalog) -> None:
    cmd = commands.CreateProduct("Shoe", "", "", "", (new("ONCE-1"),))
    first = await catalog.products.create_product(ADMIN, "same-id", cmd)
    commits = catalog.memory.commits
    catalog.clock.advance()

    again = await catalog.products.create_product(ADMIN, "same-id", cmd)

    assert again == first
    assert len(catalog.memory.state.products) == 1
    assert catalog.memory.commits == commits + 1  # the replay's unit, with nothing new in it


async def test_a_request_id_sent_again_with_another_command_is_refused(catalog: Catalog) -> None:
    await catalog.products.create_product(ADMIN, "same-id", commands.CreateProduct("A", "", "", "", ()))

    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.products.create_product(ADMIN, "same-id", commands.CreateProduct("B", "", "", "", ()))

    assert refused.value.reason == "REQUEST_ID_REUSED"


async def test_a_create_without_a_request_id_is_refused(catalog: Catalog) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.products.create_product(ADMIN, "", commands.CreateProduct("A", "", "", "", ()))

    assert fields_of(refused.value) == ["request_id"]


async def test_an_update_changes_the_named_fields_and_the_name_its_variants_carry(catalog: Catalog) -> None:
    product = await catalog.create(new("UP-1"), name="Old", brand="Acme")
    catalog.clock.advance()

    cmd = commands.UpdateProduct(product.id, product_etag(product), display_name="New")
    updated = await catalog.products.update_product(ADMIN, "u-1", cmd)

    assert (updated.display_name, updated.brand, updated.version) == ("New", "Acme", 2)
    assert updated.updated_at == catalog.clock.now
    read = await catalog.products.get_product(ADMIN, product.id)
    assert read == updated
    assert read.variants[0].product_display_name == "New"
    assert (await catalog.lookups.lookup_sku(ADMIN, "UP-1")).product.display_name == "New"


async def test_an_update_with_a_stale_etag_is_aborted_and_changes_nothing(catalog: Catalog) -> None:
    product = await catalog.create(name="First")
    stale = product_etag(product)
    await catalog.products.update_product(ADMIN, "u-1", commands.UpdateProduct(product.id, stale, brand="X"))

    with pytest.raises(errors.EtagMismatch):
        await catalog.products.update_product(
            ADMIN, "u-2", commands.UpdateProduct(product.id, stale, display_name="Second")
        )

    assert (await catalog.products.get_product(ADMIN, product.id)).display_name == "First"


async def test_an_update_of_a_missing_product_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(errors.NotFound):
        await catalog.products.update_product(ADMIN, "u-1", commands.UpdateProduct("nope", "", brand="X"))


async def test_an_update_refuses_an_empty_display_name(catalog: Catalog) -> None:
    product = await catalog.create()

    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.products.update_product(
            ADMIN, "u-1", commands.UpdateProduct(product.id, "", display_name="", category="/")
        )

    assert fields_of(refused.value) == ["product.display_name", "product.category"]


async def test_archiving_takes_every_active_variant_along(catalog: Catalog) -> None:
    product = await catalog.create(new("AR-1"), new("AR-2"))
    catalog.clock.advance()

    archived = await catalog.products.archive_product(
        ADMIN, "a-1", commands.ChangeProductStatus(product.id, product_etag(product))
    )

    assert archived.status is ProductStatus.ARCHIVED
    assert archived.archived_at == catalog.clock.now
    assert archived.version == 2
    assert [(v.status, v.version) for v in archived.variants] == [(VariantStatus.ARCHIVED, 2)] * 2
    assert await catalog.products.get_product(ADMIN, product.id) == archived


async def test_archiving_an_archived_product_changes_nothing(catalog: Catalog) -> None:
    product = await catalog.create(new("AR-1"))
    archived = await catalog.products.archive_product(
        ADMIN, "a-1", commands.ChangeProductStatus(product.id, "")
    )

    again = await catalog.products.archive_product(
        ADMIN, "a-2", commands.ChangeProductStatus(product.id, product_etag(archived))
    )

    assert again == archived


async def test_archiving_with_a_stale_etag_is_aborted_even_when_nothing_would_change(
    catalog: Catalog,
) -> None:
    product = await catalog.create()
    await catalog.products.archive_product(ADMIN, "a-1", commands.ChangeProductStatus(product.id, ""))

    with pytest.raises(errors.EtagMismatch):
        await catalog.products.archive_product(
            ADMIN, "a-2", commands.ChangeProductStatus(product.id, product_etag(product))
        )


async def test_unarchiving_leaves_the_variants_archived(catalog: Catalog) -> None:
    product = await catalog.create(new("UN-1"))
    await catalog.products.archive_product(ADMIN, "a-1", commands.ChangeProductStatus(product.id, ""))

    active = await catalog.products.unarchive_product(
        ADMIN, "a-2", commands.ChangeProductStatus(product.id, "")
    )

    assert (active.status, active.archived_at, active.version) == (ProductStatus.ACTIVE, None, 3)
    assert active.variants[0].status is VariantStatus.ARCHIVED


async def test_a_write_invalidates_the_product_and_every_variant_key_after_it_committed(
    catalog: Catalog,
) -> None:
    product = await catalog.create(new("K-1", barcode="96385074"), new("K-2"))
    catalog.cache.invalidated.clear()

    await catalog.products.update_product(ADMIN, "u-1", commands.UpdateProduct(product.id, "", brand="B"))

    one, two = product.variants
    base = f"catalog:{ADMIN.tenant_id}"
    assert catalog.cache.invalidated == [
        {
            f"{base}:product:{product.id}",
            f"{base}:variant:{one.id}",
            f"{base}:sku:K-1",
            f"{base}:barcode:00000096385074",
            f"{base}:variant:{two.id}",
            f"{base}:sku:K-2",
        }
    ]
