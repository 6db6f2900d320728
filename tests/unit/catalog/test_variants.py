"""Variants: adding one to a product, updating, archiving and unarchiving, on the fakes."""

from __future__ import annotations

import pytest

from kit import errors
from svc_catalog import commands
from svc_catalog.domain import Money, VariantStatus
from svc_catalog.usecases.names import variant_etag
from tests.unit.catalog.conftest import ADMIN, Catalog, fields_of, new


async def test_a_new_variant_joins_its_product_and_its_search_text(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1"), name="Trail shoe")
    catalog.clock.advance()

    added = await catalog.variants.create_variant(
        ADMIN, "v-1", commands.CreateVariant(product.id, new("B-2", display_name="Blue"))
    )

    assert (added.product_id, added.status, added.version) == (product.id, VariantStatus.ACTIVE, 1)
    assert added.product_display_name == "Trail shoe"
    assert added.created_at == catalog.clock.now
    assert [v.sku for v in (await catalog.products.get_product(ADMIN, product.id)).variants] == ["A-1", "B-2"]
    assert catalog.memory.state.search_texts[product.id].split() == [
        "1",
        "2",
        "a",
        "b",
        "blue",
        "shoe",
        "trail",
    ]


async def test_a_variant_for_a_missing_product_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(errors.NotFound):
        await catalog.variants.create_variant(ADMIN, "v-1", commands.CreateVariant("nope", new("A-1")))


async def test_an_archived_product_takes_no_new_variant(catalog: Catalog) -> None:
    product = await catalog.create()
    await catalog.products.archive_product(ADMIN, "a-1", commands.ChangeProductStatus(product.id, ""))

    with pytest.raises(errors.FailedPrecondition) as refused:
        await catalog.variants.create_variant(ADMIN, "v-1", commands.CreateVariant(product.id, new("A-1")))

    assert refused.value.reason == "PRODUCT_ARCHIVED"


async def test_a_new_variant_with_a_taken_sku_or_barcode_is_refused(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1", barcode="96385074"))

    with pytest.raises(errors.AlreadyExists) as sku:
        await catalog.variants.create_variant(ADMIN, "v-1", commands.CreateVariant(product.id, new("a-1")))
    with pytest.raises(errors.AlreadyExists) as barcode:
        await catalog.variants.create_variant(
            ADMIN, "v-2", commands.CreateVariant(product.id, new("B-1", barcode="0000096385074"))
        )

    assert (sku.value.reason, sku.value.field) == ("SKU_TAKEN", "variant.sku")
    assert (barcode.value.reason, barcode.value.field) == ("BARCODE_TAKEN", "variant.barcode")


async def test_a_barcode_with_a_wrong_check_digit_names_the_right_one(catalog: Catalog) -> None:
    product = await catalog.create()

    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.variants.create_variant(
            ADMIN, "v-1", commands.CreateVariant(product.id, new("A-1", barcode="96385075"))
        )

    assert fields_of(refused.value) == ["variant.barcode"]
    assert "must end 4" in refused.value.violations[0].description


async def test_a_repeated_create_returns_the_first_variant(catalog: Catalog) -> None:
    product = await catalog.create()
    cmd = commands.CreateVariant(product.id, new("ONCE-1"))
    first = await catalog.variants.create_variant(ADMIN, "same", cmd)

    again = await catalog.variants.create_variant(ADMIN, "same", cmd)

    assert again == first
    assert len(catalog.memory.state.variants) == 1


async def test_an_update_changes_the_named_fields_only(catalog: Catalog) -> None:
    product = await catalog.create(new("U-1", barcode="96385074", display_name="Red"))
    variant = product.variants[0]
    catalog.clock.advance()

    cmd = commands.UpdateVariant(
        product.id, variant.id, variant_etag(variant), list_price=Money("EUR", 99, 500_000_000), barcode=""
    )
    updated = await catalog.variants.update_variant(ADMIN, "u-1", cmd)

    assert (updated.display_name, updated.list_price, updated.barcode) == (
        "Red",
        Money("EUR", 99, 500_000_000),
        "",
    )
    assert (updated.version, updated.updated_at) == (2, catalog.clock.now)
    assert await catalog.variants.get_variant(ADMIN, product.id, variant.id) == updated
    with pytest.raises(errors.NotFound):
        await catalog.lookups.lookup_barcode(ADMIN, "96385074")


async def test_an_update_to_a_barcode_another_variant_carries_is_refused(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1", barcode="96385074"), new("B-1"))
    other = product.variants[1]

    with pytest.raises(errors.AlreadyExists) as refused:
        await catalog.variants.update_variant(
            ADMIN, "u-1", commands.UpdateVariant(product.id, other.id, "", barcode="96385074")
        )

    assert (refused.value.reason, refused.value.field) == ("BARCODE_TAKEN", "variant.barcode")


async def test_a_variant_may_keep_its_own_barcode(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1", barcode="96385074"))
    variant = product.variants[0]

    updated = await catalog.variants.update_variant(
        ADMIN, "u-1", commands.UpdateVariant(product.id, variant.id, "", barcode="96385074", display_name="X")
    )

    assert (updated.barcode, updated.display_name) == ("96385074", "X")


async def test_an_update_with_a_stale_etag_is_aborted(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1"))
    variant = product.variants[0]
    await catalog.variants.update_variant(
        ADMIN, "u-1", commands.UpdateVariant(product.id, variant.id, "", display_name="First")
    )

    with pytest.raises(errors.EtagMismatch):
        await catalog.variants.update_variant(
            ADMIN,
            "u-2",
            commands.UpdateVariant(product.id, variant.id, variant_etag(variant), display_name="2"),
        )

    assert (await catalog.variants.get_variant(ADMIN, product.id, variant.id)).display_name == "First"


async def test_an_update_of_a_variant_under_another_product_is_not_found(catalog: Catalog) -> None:
    one = await catalog.create(new("A-1"))
    two = await catalog.create(new("B-1"))

    with pytest.raises(errors.NotFound):
        await catalog.variants.update_variant(
            ADMIN, "u-1", commands.UpdateVariant(two.id, one.variants[0].id, "", display_name="X")
        )
    with pytest.raises(errors.NotFound):
        await catalog.variants.get_variant(ADMIN, two.id, one.variants[0].id)


async def test_a_barcode_change_invalidates_the_old_barcode_too(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1", barcode="96385074"))
    variant = product.variants[0]
    catalog.cache.invalidated.clear()

    await catalog.variants.update_variant(
        ADMIN, "u-1", commands.UpdateVariant(product.id, variant.id, "", barcode="036000291452")
    )

    base = f"catalog:{ADMIN.tenant_id}"
    assert catalog.cache.invalidated == [
        {
            f"{base}:product:{product.id}",
            f"{base}:variant:{variant.id}",
            f"{base}:sku:A-1",
            f"{base}:barcode:00000096385074",
            f"{base}:barcode:00036000291452",
        }
    ]


async def test_archive_and_unarchive_a_variant(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1"))
    variant = product.variants[0]
    catalog.clock.advance()

    archived = await catalog.variants.archive_variant(
        ADMIN, "a-1", commands.ChangeVariantStatus(product.id, variant.id, variant_etag(variant))
    )
    again = await catalog.variants.archive_variant(
        ADMIN, "a-2", commands.ChangeVariantStatus(product.id, variant.id, variant_etag(archived))
    )
    active = await catalog.variants.unarchive_variant(
        ADMIN, "a-3", commands.ChangeVariantStatus(product.id, variant.id, "")
    )

    assert (archived.status, archived.archived_at, archived.version) == (
        VariantStatus.ARCHIVED,
        catalog.clock.now,
        2,
    )
    assert again == archived
    assert (active.status, active.archived_at, active.version) == (VariantStatus.ACTIVE, None, 3)


async def test_a_variant_of_an_archived_product_cannot_be_unarchived(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1"))
    await catalog.products.archive_product(ADMIN, "a-1", commands.ChangeProductStatus(product.id, ""))

    with pytest.raises(errors.FailedPrecondition):
        await catalog.variants.unarchive_variant(
            ADMIN, "a-2", commands.ChangeVariantStatus(product.id, product.variants[0].id, "")
        )


async def test_a_status_change_with_a_stale_etag_is_aborted_before_the_product_rule(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1"))
    variant = product.variants[0]
    await catalog.products.archive_product(ADMIN, "a-1", commands.ChangeProductStatus(product.id, ""))

    with pytest.raises(errors.EtagMismatch):
        await catalog.variants.unarchive_variant(
            ADMIN, "a-2", commands.ChangeVariantStatus(product.id, variant.id, variant_etag(variant))
        )
