"""Listing, filtering and free-text search over real gRPC, page after page."""

from __future__ import annotations

from grpc import StatusCode

from stockmesh.catalog.v1 import catalog_pb2
from tests import harness
from tests.conftest import new_id
from tests.integration.catalog.conftest import Shop, variant


def product_names(shop: Shop, page_size: int = 0, **filters: object) -> list[str]:
    """Every product's display name, page by page."""
    names, token = [], ""
    while True:
        request = catalog_pb2.ListProductsRequest(page_size=page_size, page_token=token, **filters)
        page = shop.call("ListProducts", request)
        names += [p.display_name for p in page.products]
        token = page.next_page_token
        if not token:
            return names


def variant_skus(shop: Shop, parent: str = "products/-", page_size: int = 0, **filters: object) -> list[str]:
    skus, token = [], ""
    while True:
        request = catalog_pb2.ListVariantsRequest(
            parent=parent, page_size=page_size, page_token=token, **filters
        )
        page = shop.call("ListVariants", request)
        skus += [v.sku for v in page.variants]
        token = page.next_page_token
        if not token:
            return skus


def test_products_page_by_display_name_ignoring_case(shop: Shop) -> None:
    names = ["delta", "Alpha", "charlie", "Bravo", "echo", "alpha", "Foxtrot", "golf"]
    for i, name in enumerate(names):
        shop.create_product(variant(f"P-{i}"), display_name=name)

    paged = product_names(shop, page_size=3)

    assert [n.casefold() for n in paged] == sorted(n.casefold() for n in names)
    assert sorted(paged) == sorted(names)


def test_free_text_matches_word_prefixes_in_products_and_their_variants(shop: Shop) -> None:
    shop.create_product(
        variant("TS-RED-42", display_name="Crimson"),
        display_name="Trail shoe",
        brand="Acme",
        category="Footwear",
    )
    shop.create_product(
        variant("RS-1", barcode="4006381333931"), display_name="Road shoe", description="Light"
    )
    shop.create_product(variant("SOCK-1"), display_name="Shoelace 100% cotton", brand="Other")

    assert product_names(shop, query="SHOE") == ["Road shoe", "Shoelace 100% cotton", "Trail shoe"]
    assert product_names(shop, query="shoel") == ["Shoelace 100% cotton"]
    assert product_names(shop, query="acme crim") == ["Trail shoe"]  # every word, from anywhere
    assert product_names(shop, query="ts-red") == ["Trail shoe"]
    assert product_names(shop, query="400638") == ["Road shoe"]
    assert product_names(shop, query="light road") == ["Road shoe"]
    assert product_names(shop, query="hoe") == []  # prefixes of words, not infixes
    assert product_names(shop, query="100%") == ["Shoelace 100% cotton"]
    assert product_names(shop, query="%") == product_names(shop)  # no word: no constraint
    assert product_names(shop, query="_") == product_names(shop)


def test_filters_by_brand_category_and_status(shop: Shop) -> None:
    shop.create_product(variant("F-1"), display_name="Runner", brand="Acme", category="Footwear/Running")
    shop.create_product(variant("F-2"), display_name="Hiker", brand="ACME", category="Footwear/Hiking")
    shop.create_product(variant("F-3"), display_name="Boot", brand="Other", category="Footwear")
    cap = shop.create_product(variant("F-4"), display_name="Cap", brand="acme", category="Footwear_Hats")
    shop.call("ArchiveProduct", catalog_pb2.ArchiveProductRequest(request_id=new_id(), name=cap.name))

    assert product_names(shop, brand="acme") == ["Cap", "Hiker", "Runner"]
    assert product_names(shop, category="Footwear") == ["Boot", "Hiker", "Runner"]
    assert product_names(shop, category="Footwear/Running") == ["Runner"]
    assert product_names(shop, category="Foot") == []
    assert product_names(shop, status=catalog_pb2.PRODUCT_STATUS_ARCHIVED) == ["Cap"]
    assert product_names(shop, status=catalog_pb2.PRODUCT_STATUS_ACTIVE, brand="Acme") == ["Hiker", "Runner"]


def test_variants_of_every_product_page_by_sku(shop: Shop) -> None:
    shop.create_product(variant("c-1"), variant("A-1", attributes={"color": "green"}))
    second = shop.create_product(variant("b-1"), variant("D-1"), variant("e-1"))
    shop.call(
        "ArchiveVariant", catalog_pb2.ArchiveVariantRequest(request_id=new_id(), name=second.variants[0].name)
    )

    assert variant_skus(shop, page_size=2) == ["A-1", "b-1", "c-1", "D-1", "e-1"]
    assert variant_skus(shop, second.name, page_size=1) == ["b-1", "D-1", "e-1"]
    assert variant_skus(shop, status=catalog_pb2.VARIANT_STATUS_ARCHIVED) == ["b-1"]
    assert variant_skus(shop, query="gree") == ["A-1"]  # attribute values are searched


def test_a_page_token_is_only_good_for_the_request_it_came_from(shop: Shop) -> None:
    for i in range(3):
        shop.create_product(variant(f"T-{i}"), display_name=f"Item {i}")
    token = shop.call("ListProducts", catalog_pb2.ListProductsRequest(page_size=1)).next_page_token

    changed = harness.refused(
        shop.call, "ListProducts", catalog_pb2.ListProductsRequest(page_size=1, page_token=token, brand="x")
    )
    garbage = harness.refused(
        shop.call, "ListProducts", catalog_pb2.ListProductsRequest(page_token="not-a-token")
    )

    assert changed.code == garbage.code == StatusCode.INVALID_ARGUMENT
    assert "page_token" in changed.field_violations


def test_listing_the_variants_of_an_unknown_product_is_not_found(shop: Shop) -> None:
    refusal = harness.refused(variant_skus, shop, "products/does-not-exist")

    assert refusal.code == StatusCode.NOT_FOUND
