"""Lookups by SKU and barcode, and many SKUs at once, on the fakes."""

from __future__ import annotations

import pytest

from kit import errors
from svc_catalog import domain
from tests.unit.catalog.conftest import ADMIN, OTHER_TENANT, Catalog, new


async def test_a_sku_finds_its_variant_and_product_by_exact_case(catalog: Catalog) -> None:
    product = await catalog.create(new("Run-1"), new("Run-2"), name="Shoe")

    found = await catalog.lookups.lookup_sku(ADMIN, "Run-1")

    assert found.variant == product.variants[0]
    assert (found.product.id, found.product.display_name, found.product.variants) == (product.id, "Shoe", ())
    with pytest.raises(errors.NotFound):
        await catalog.lookups.lookup_sku(ADMIN, "RUN-1")


async def test_a_sku_no_variant_can_carry_is_not_found_and_an_empty_one_invalid(catalog: Catalog) -> None:
    with pytest.raises(errors.NotFound) as unknown:
        await catalog.lookups.lookup_sku(ADMIN, "not a sku")
    with pytest.raises(errors.InvalidArgument):
        await catalog.lookups.lookup_sku(ADMIN, "")

    assert "sku not a sku" in str(unknown.value)


async def test_a_barcode_finds_its_variant_in_any_gtin_length(catalog: Catalog) -> None:
    product = await catalog.create(new("UPC-1", barcode="036000291452"))

    as_ean13 = await catalog.lookups.lookup_barcode(ADMIN, "0036000291452")
    as_gtin14 = await catalog.lookups.lookup_barcode(ADMIN, "00036000291452")

    assert as_ean13.variant == as_gtin14.variant == product.variants[0]


async def test_a_bad_or_unknown_barcode_is_refused(catalog: Catalog) -> None:
    with pytest.raises(errors.InvalidArgument):
        await catalog.lookups.lookup_barcode(ADMIN, "")
    with pytest.raises(errors.InvalidArgument):
        await catalog.lookups.lookup_barcode(ADMIN, "96385075")
    with pytest.raises(errors.NotFound):
        await catalog.lookups.lookup_barcode(ADMIN, "96385074")


async def test_a_tenant_never_finds_another_tenants_variant(catalog: Catalog) -> None:
    await catalog.create(new("MINE-1", barcode="96385074"))

    with pytest.raises(errors.NotFound):
        await catalog.lookups.lookup_sku(OTHER_TENANT, "MINE-1")
    with pytest.raises(errors.NotFound):
        await catalog.lookups.lookup_barcode(OTHER_TENANT, "96385074")
    batch = await catalog.lookups.batch_get_variants(OTHER_TENANT, ["MINE-1"])
    assert (batch.variants, batch.unknown_skus) == ([], ["MINE-1"])


async def test_a_batch_answers_in_request_order_and_names_the_unknown_skus(catalog: Catalog) -> None:
    product = await catalog.create(new("A-1"), new("B-1"), new("C-1"))
    a, b, c = product.variants

    batch = await catalog.lookups.batch_get_variants(ADMIN, ["C-1", "NONE-1", "A-1", "C-1", "b-1", "bad sku"])

    assert batch.variants == [c, a]
    assert batch.unknown_skus == ["NONE-1", "b-1", "bad sku"]
    assert b not in batch.variants


@pytest.mark.parametrize("count", [0, domain.MAX_BATCH + 1])
async def test_a_batch_of_no_or_too_many_distinct_skus_is_refused(catalog: Catalog, count: int) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        await catalog.lookups.batch_get_variants(ADMIN, [f"S-{i}" for i in range(count)])

    assert [v.field for v in refused.value.violations] == ["skus"]


async def test_a_batch_of_many_repeats_of_one_sku_is_one_sku(catalog: Catalog) -> None:
    await catalog.create(new("A-1"))

    batch = await catalog.lookups.batch_get_variants(ADMIN, ["A-1"] * (domain.MAX_BATCH + 5))

    assert [v.sku for v in batch.variants] == ["A-1"]
