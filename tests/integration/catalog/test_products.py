"""Products over real gRPC with mTLS: create, read, update with a mask and an
etag, archive; SKUs unique per tenant; tenants isolated; roles; exactly once."""

from __future__ import annotations

import concurrent.futures
import threading

import grpc
from grpc import StatusCode

from kit import status
from stockmesh.catalog.v1 import catalog_pb2
from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import new_id
from tests.integration.catalog.conftest import Shop, money, variant


def all_products(shop: Shop, **filters: object) -> list[catalog_pb2.Product]:
    products, token = [], ""
    while True:
        page = shop.call("ListProducts", catalog_pb2.ListProductsRequest(page_token=token, **filters))
        products += page.products
        token = page.next_page_token
        if not token:
            return products


def test_a_product_is_created_with_its_variants_and_read_back(shop: Shop) -> None:
    created = shop.create_product(
        variant("TS-RED-42", display_name="Red / 42", attributes={"color": "red", "size": "42"}),
        variant("ts-blue-41", barcode="4006381333931", unit_of_measure="PR"),
        display_name="Trail shoe",
        brand="Acme",
        category="Footwear/Running",
    )

    read = shop.get_product(created.name)

    assert read == created
    assert created.status == catalog_pb2.PRODUCT_STATUS_ACTIVE
    assert [v.sku for v in created.variants] == ["ts-blue-41", "TS-RED-42"]  # by SKU, ignoring case
    blue, red = created.variants
    assert red.attributes == {"color": "red", "size": "42"}
    assert red.unit_of_measure == "EA"  # the default
    assert blue.unit_of_measure == "PR"
    assert red.list_price == money(10)
    assert red.product_display_name == "Trail shoe"
    assert red.name.startswith(f"{created.name}/variants/")
    assert created.etag
    assert red.etag
    assert red.status == catalog_pb2.VARIANT_STATUS_ACTIVE


def test_bad_input_is_refused_naming_every_bad_field(shop: Shop) -> None:
    refusal = harness.refused(
        shop.create_product,
        variant("-starts-with-dash"),
        catalog_pb2.Variant(sku="NO-PRICE"),
        catalog_pb2.Variant(sku="NEGATIVE", list_price=money(-1)),
        catalog_pb2.Variant(sku="LOWER", list_price=money(1, currency="eur")),
        variant("BAD-UNIT", unit_of_measure="each"),
        display_name=" ",
    )

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert set(refusal.field_violations) == {
        "product.display_name",
        "product.variants[0].sku",
        "product.variants[1].list_price",
        "product.variants[2].list_price",
        "product.variants[3].list_price.currency_code",
        "product.variants[4].unit_of_measure",
    }


def test_duplicate_skus_within_one_request_are_bad_input(shop: Shop) -> None:
    refusal = harness.refused(shop.create_product, variant("SAME-1"), variant("same-1"))

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert "product.variants[1].sku" in refusal.field_violations


def test_a_sku_is_unique_per_tenant_ignoring_case(shop: Shop, other_shop: Shop) -> None:
    shop.create_product(variant("TAKEN-1"))

    taken = harness.refused(shop.create_product, variant("FREE-1"), variant("taken-1"))
    elsewhere = other_shop.create_product(variant("TAKEN-1"))

    assert (taken.code, taken.reason) == (StatusCode.ALREADY_EXISTS, "SKU_TAKEN")
    assert taken.metadata["field"] == "product.variants[1].sku"
    assert elsewhere.variants[0].sku == "TAKEN-1"
    assert harness.refused(shop.lookup_sku, "FREE-1").code == StatusCode.NOT_FOUND  # all or nothing


def test_another_tenants_product_is_not_found(shop: Shop, other_shop: Shop) -> None:
    theirs = other_shop.create_product(variant("THEIRS-1"), display_name="Their shoe")

    read = harness.refused(shop.get_product, theirs.name)
    updated = harness.refused(shop.update_product, theirs, ["display_name"], display_name="Mine now")
    archived = harness.refused(
        shop.call, "ArchiveProduct", catalog_pb2.ArchiveProductRequest(request_id=new_id(), name=theirs.name)
    )
    variant_read = harness.refused(
        shop.call, "GetVariant", catalog_pb2.GetVariantRequest(name=theirs.variants[0].name)
    )

    assert {read.code, updated.code, archived.code, variant_read.code} == {StatusCode.NOT_FOUND}
    assert all_products(shop) == []
    assert harness.refused(shop.lookup_sku, "THEIRS-1").code == StatusCode.NOT_FOUND


def test_an_update_changes_only_the_masked_fields(shop: Shop) -> None:
    product = shop.create_product(variant("MASK-1"), display_name="Before", brand="Acme", description="Kept")

    updated = shop.update_product(
        product, ["display_name", "brand"], display_name="After", description="Lost"
    )

    assert (updated.display_name, updated.brand, updated.description) == ("After", "", "Kept")
    assert updated.etag != product.etag
    assert updated.variants[0].product_display_name == "After"
    assert shop.get_product(product.name) == updated


def test_a_mask_naming_a_field_that_cannot_change_is_refused(shop: Shop) -> None:
    product = shop.create_product(variant("MASK-2"))

    refusal = harness.refused(shop.update_product, product, ["status"], status=2)

    assert refusal.code == StatusCode.INVALID_ARGUMENT
    assert "update_mask.paths" in refusal.field_violations


def test_an_update_with_a_stale_etag_is_aborted(shop: Shop) -> None:
    product = shop.create_product(variant("ETAG-1"))
    shop.update_product(product, ["display_name"], display_name="First", etag=product.etag)

    stale = harness.refused(
        shop.update_product, product, ["display_name"], display_name="Second", etag=product.etag
    )
    archive = harness.refused(
        shop.call,
        "ArchiveProduct",
        catalog_pb2.ArchiveProductRequest(request_id=new_id(), name=product.name, etag=product.etag),
    )

    assert (stale.code, stale.reason) == (StatusCode.ABORTED, "ETAG_MISMATCH")
    assert archive.code == StatusCode.ABORTED
    assert shop.get_product(product.name).display_name == "First"


def test_archiving_a_product_archives_its_variants_and_unarchiving_leaves_them(shop: Shop) -> None:
    product = shop.create_product(variant("ARC-1"), variant("ARC-2"))

    def archive(etag: str = "") -> catalog_pb2.Product:
        request = catalog_pb2.ArchiveProductRequest(request_id=new_id(), name=product.name, etag=etag)
        return shop.call("ArchiveProduct", request).product

    archived = archive(product.etag)
    again = archive()
    add = harness.refused(
        shop.call,
        "CreateVariant",
        catalog_pb2.CreateVariantRequest(request_id=new_id(), parent=product.name, variant=variant("ARC-3")),
    )
    revived = shop.call(
        "UnarchiveProduct", catalog_pb2.UnarchiveProductRequest(request_id=new_id(), name=product.name)
    ).product

    assert archived.status == catalog_pb2.PRODUCT_STATUS_ARCHIVED
    assert archived.archive_time.seconds > 0
    assert {v.status for v in archived.variants} == {catalog_pb2.VARIANT_STATUS_ARCHIVED}
    assert again == archived  # archiving an archived product changes nothing
    assert (add.code, add.reason) == (StatusCode.FAILED_PRECONDITION, "PRODUCT_ARCHIVED")
    assert revived.status == catalog_pb2.PRODUCT_STATUS_ACTIVE
    assert not revived.HasField("archive_time")
    assert {v.status for v in revived.variants} == {catalog_pb2.VARIANT_STATUS_ARCHIVED}
    assert shop.lookup_sku("ARC-1").variant.status == catalog_pb2.VARIANT_STATUS_ARCHIVED


def test_a_viewer_reads_but_cannot_change_the_catalog(shop: Shop) -> None:
    product = shop.create_product(variant("ROLE-1"))

    create = harness.refused(shop.create_product, variant("ROLE-2"), role=user_pb2.ROLE_VIEWER)
    read = shop.get_product(product.name, role=user_pb2.ROLE_VIEWER)
    by_clerk = shop.get_product(product.name, role=user_pb2.ROLE_CLERK)
    by_manager = shop.create_product(variant("ROLE-3"), role=user_pb2.ROLE_MANAGER)

    assert (create.code, create.reason) == (StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED")
    assert read == product == by_clerk
    assert by_manager.variants[0].sku == "ROLE-3"


def test_a_call_without_a_token_is_unauthenticated(shop: Shop) -> None:
    refusal = harness.refused(shop.catalog.ListProducts, catalog_pb2.ListProductsRequest(), timeout=10)

    assert refusal.code == StatusCode.UNAUTHENTICATED


def test_a_create_retried_with_its_request_id_makes_one_product(shop: Shop) -> None:
    request_id = new_id()

    first = shop.create_product(variant("ONCE-1"), request_id=request_id)
    second = shop.create_product(variant("ONCE-1"), request_id=request_id)
    other = harness.refused(shop.create_product, variant("ONCE-2"), request_id=request_id)

    assert second == first
    assert [p.name for p in all_products(shop)] == [first.name]
    assert (other.code, other.reason) == (StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


def test_concurrent_duplicates_of_one_create_take_effect_once(shop: Shop) -> None:
    request_id = new_id()
    shop.as_role()  # log in before the race
    start = threading.Barrier(10)

    def create() -> catalog_pb2.Product:
        start.wait()
        return shop.create_product(variant("RACE-1"), variant("RACE-2"), request_id=request_id)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _: create(), range(10)))

    assert {r.name for r in results} == {results[0].name}
    assert [p.name for p in all_products(shop)] == [results[0].name]


def test_concurrent_creates_of_one_sku_make_one_variant(shop: Shop) -> None:
    shop.as_role()
    start = threading.Barrier(8)

    def create() -> str:
        start.wait()
        try:
            return shop.create_product(variant("CONTESTED-1")).name
        except grpc.RpcError as exc:
            return status.details_of(exc).reason

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: create(), range(8)))

    winners = [o for o in outcomes if o.startswith("products/")]
    assert len(winners) == 1
    assert sorted(set(outcomes) - set(winners)) == ["SKU_TAKEN"]
