"""Variants over real gRPC: barcodes with their check digits, scanning by any
GTIN form, SKU lookups, batch reads for other services, updates and archiving."""

from __future__ import annotations

import pytest
from grpc import StatusCode

from stockmesh.catalog.v1 import catalog_pb2
from tests import harness
from tests.conftest import new_id
from tests.integration.catalog.conftest import Shop, money, variant


def create_variant(shop: Shop, parent: str, new: catalog_pb2.Variant) -> catalog_pb2.Variant:
    request = catalog_pb2.CreateVariantRequest(request_id=new_id(), parent=parent, variant=new)
    return shop.call("CreateVariant", request).variant


def lookup_barcode(shop: Shop, barcode: str) -> catalog_pb2.LookupBarcodeResponse:
    return shop.call("LookupBarcode", catalog_pb2.LookupBarcodeRequest(barcode=barcode))


def batch(shop: Shop, *skus: str) -> catalog_pb2.BatchGetVariantsResponse:
    return shop.call("BatchGetVariants", catalog_pb2.BatchGetVariantsRequest(skus=skus))


def change_status(shop: Shop, rpc: str, name: str, etag: str = "") -> catalog_pb2.Variant:
    request = getattr(catalog_pb2, f"{rpc}Request")(request_id=new_id(), name=name, etag=etag)
    return shop.call(rpc, request).variant


@pytest.mark.parametrize(
    "barcode",
    ["96385074", "036000291452", "4006381333931", "10614141000415"],
    ids=["GTIN-8", "GTIN-12", "GTIN-13", "GTIN-14"],
)
def test_a_barcode_with_a_valid_check_digit_is_accepted(shop: Shop, barcode: str) -> None:
    created = shop.create_product(variant("SCAN-1", barcode=barcode))

    assert created.variants[0].barcode == barcode  # stored as given


@pytest.mark.parametrize("barcode", ["96385075", "036000291453", "4006381333930", "10614141000410"])
def test_a_wrong_check_digit_is_bad_input_naming_the_field(shop: Shop, barcode: str) -> None:
    product = shop.create_product(variant("GOOD-1"))

    on_create = harness.refused(shop.create_product, variant("SCAN-2"), variant("SCAN-3", barcode=barcode))
    on_add = harness.refused(create_variant, shop, product.name, variant("SCAN-4", barcode=barcode))
    on_update = harness.refused(shop.update_variant, product.variants[0].name, ["barcode"], barcode=barcode)
    on_lookup = harness.refused(lookup_barcode, shop, barcode)

    assert on_create.code == StatusCode.INVALID_ARGUMENT
    assert "check digit" in on_create.field_violations["product.variants[1].barcode"]
    assert set(on_add.field_violations) == set(on_update.field_violations) == {"variant.barcode"}
    assert set(on_lookup.field_violations) == {"barcode"}


def test_a_malformed_barcode_is_bad_input(shop: Shop) -> None:
    for barcode in ("12345", "03600029145X", "0036000291452000"):
        refusal = harness.refused(shop.create_product, variant("MALFORMED-1", barcode=barcode))
        assert set(refusal.field_violations) == {"product.variants[0].barcode"}


def test_upc_a_and_the_same_number_as_ean_13_find_the_same_variant(shop: Shop) -> None:
    product = shop.create_product(variant("UPC-1", barcode="036000291452"), display_name="Cereal")

    as_upc = lookup_barcode(shop, "036000291452")
    as_ean = lookup_barcode(shop, "0036000291452")
    as_gtin14 = lookup_barcode(shop, "00036000291452")
    unknown = harness.refused(lookup_barcode, shop, "4006381333931")

    assert as_upc == as_ean == as_gtin14
    assert as_upc.variant.name == product.variants[0].name
    assert as_upc.product.display_name == "Cereal"
    assert list(as_upc.product.variants) == []
    assert unknown.code == StatusCode.NOT_FOUND


def test_a_barcode_is_unique_per_tenant_in_any_gtin_form(shop: Shop, other_shop: Shop) -> None:
    shop.create_product(variant("BC-1", barcode="036000291452"))

    taken = harness.refused(shop.create_product, variant("BC-2", barcode="0036000291452"))
    elsewhere = other_shop.create_product(variant("BC-1", barcode="036000291452"))

    assert (taken.code, taken.reason) == (StatusCode.ALREADY_EXISTS, "BARCODE_TAKEN")
    assert taken.metadata["field"] == "product.variants[0].barcode"
    assert elsewhere.variants[0].barcode == "036000291452"


def test_an_archived_variants_barcode_is_reusable_once_cleared(shop: Shop) -> None:
    old = shop.create_product(variant("OLD-1", barcode="96385074")).variants[0]
    archived = change_status(shop, "ArchiveVariant", old.name)

    still_taken = harness.refused(shop.create_product, variant("NEW-1", barcode="96385074"))
    cleared = shop.update_variant(archived.name, ["barcode"], barcode="", etag=archived.etag)
    reused = shop.create_product(variant("NEW-1", barcode="96385074")).variants[0]

    assert still_taken.reason == "BARCODE_TAKEN"
    assert cleared.barcode == ""
    assert cleared.status == catalog_pb2.VARIANT_STATUS_ARCHIVED
    assert lookup_barcode(shop, "96385074").variant.name == reused.name


def test_a_variant_is_added_read_and_updated_but_keeps_its_sku_and_unit(shop: Shop) -> None:
    product = shop.create_product(display_name="Coffee")
    added = create_variant(
        shop, product.name, variant("COFFEE-250", unit_of_measure="GRM", attributes={"roast": "dark"})
    )

    updated = shop.update_variant(
        added.name,
        ["display_name", "attributes", "list_price"],
        display_name="250 g",
        attributes={"roast": "medium", "origin": "peru"},
        list_price=money(7, 990_000_000),
        etag=added.etag,
    )
    immutable = harness.refused(shop.update_variant, added.name, ["sku"], sku="COFFEE-500")
    stale = harness.refused(
        shop.update_variant, added.name, ["display_name"], display_name="x", etag=added.etag
    )
    read = shop.call("GetVariant", catalog_pb2.GetVariantRequest(name=added.name)).variant

    assert read == updated
    assert (updated.sku, updated.unit_of_measure) == ("COFFEE-250", "GRM")
    assert updated.attributes == {"roast": "medium", "origin": "peru"}
    assert updated.list_price == money(7, 990_000_000)
    assert immutable.code == StatusCode.INVALID_ARGUMENT
    assert (stale.code, stale.reason) == (StatusCode.ABORTED, "ETAG_MISMATCH")
    assert [v.name for v in shop.get_product(product.name).variants] == [added.name]


def test_a_variant_of_an_archived_product_cannot_be_unarchived(shop: Shop) -> None:
    product = shop.create_product(variant("UNARC-1"))
    name = product.variants[0].name
    shop.call("ArchiveProduct", catalog_pb2.ArchiveProductRequest(request_id=new_id(), name=product.name))

    refused = harness.refused(change_status, shop, "UnarchiveVariant", name)
    shop.call("UnarchiveProduct", catalog_pb2.UnarchiveProductRequest(request_id=new_id(), name=product.name))
    revived = change_status(shop, "UnarchiveVariant", name)

    assert (refused.code, refused.reason) == (StatusCode.FAILED_PRECONDITION, "PRODUCT_ARCHIVED")
    assert revived.status == catalog_pb2.VARIANT_STATUS_ACTIVE
    assert not revived.HasField("archive_time")


def test_archiving_a_variant_twice_changes_nothing_and_a_stale_etag_is_aborted(shop: Shop) -> None:
    original = shop.create_product(variant("TWICE-1")).variants[0]

    first = change_status(shop, "ArchiveVariant", original.name, original.etag)
    second = change_status(shop, "ArchiveVariant", original.name)
    stale = harness.refused(change_status, shop, "UnarchiveVariant", original.name, original.etag)

    assert first == second
    assert first.status == catalog_pb2.VARIANT_STATUS_ARCHIVED
    assert stale.code == StatusCode.ABORTED


def test_lookup_by_sku_is_exact(shop: Shop) -> None:
    product = shop.create_product(variant("Exact-1"), display_name="Mug")

    found = shop.lookup_sku("Exact-1")
    other_case = harness.refused(shop.lookup_sku, "EXACT-1")

    assert found.variant.name == product.variants[0].name
    assert found.product.name == product.name
    assert list(found.product.variants) == []
    assert other_case.code == StatusCode.NOT_FOUND


def test_batch_get_returns_known_variants_in_request_order_and_lists_unknown_skus(shop: Shop) -> None:
    shop.create_product(variant("B-1"), variant("B-2"), variant("B-3"))
    archived = shop.create_product(variant("B-4")).variants[0]
    change_status(shop, "ArchiveVariant", archived.name)

    response = batch(shop, "B-3", "NOPE-1", "B-1", "B-3", "b-2", "B-4", "not a sku")

    assert [v.sku for v in response.variants] == ["B-3", "B-1", "B-4"]
    assert response.variants[2].status == catalog_pb2.VARIANT_STATUS_ARCHIVED
    assert list(response.unknown_skus) == ["NOPE-1", "b-2", "not a sku"]


def test_batch_get_takes_1_to_500_skus(shop: Shop) -> None:
    empty = harness.refused(batch, shop)
    too_many = harness.refused(batch, shop, *(f"SKU-{n}" for n in range(501)))
    most = batch(shop, *(f"SKU-{n}" for n in range(500)))

    assert set(empty.field_violations) == set(too_many.field_violations) == {"skus"}
    assert len(most.unknown_skus) == 500
