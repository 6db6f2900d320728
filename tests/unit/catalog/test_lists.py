"""Lists of products and variants: order, filters, search and paging, on the fakes."""

from __future__ import annotations

import pytest

from kit import errors
from svc_catalog import commands
from svc_catalog.domain import ProductStatus, VariantStatus
from tests.unit.catalog.conftest import ADMIN, Catalog, new


def products_query(
    *, size: int = 0, token: str = "", status: ProductStatus | None = None, query: str = "", **filters: str
) -> commands.ListProducts:
    return commands.ListProducts(
        size, token, status, query, filters.get("brand", ""), filters.get("category", "")
    )


def variants_query(
    product_id: str | None = None,
    *,
    size: int = 0,
    token: str = "",
    status: VariantStatus | None = None,
    query: str = "",
) -> commands.ListVariants:
    return commands.ListVariants(product_id, size, token, status, query)


async def test_products_page_by_display_name_ignoring_case(catalog: Catalog) -> None:
    for name in ["delta", "Bravo", "alpha", "Charlie", "echo"]:
        await catalog.create(name=name)

    first = await catalog.products.list_products(ADMIN, products_query(size=2))
    second = await catalog.products.list_products(ADMIN, products_query(size=2, token=first.next_page_token))
    last = await catalog.products.list_products(ADMIN, products_query(size=2, token=second.next_page_token))

    names = [p.display_name for page in (first, second, last) for p in page.items]
    assert names == ["alpha", "Bravo", "Charlie", "delta", "echo"]
    assert last.next_page_token == ""


async def test_products_filter_by_status_brand_category_and_words(catalog: Catalog) -> None:
    trail = await catalog.create(
        new("TR-1", display_name="Gore-tex"), name="Trail", brand="Acme", category="Shoes/Trail"
    )
    await catalog.create(name="Road", brand="ACME", category="Shoes/Road")
    await catalog.create(name="Shirt", brand="Other", category="Shoes-like")
    archived = await catalog.create(name="Old trail", brand="Acme", category="Shoes")
    await catalog.products.archive_product(ADMIN, "a-1", commands.ChangeProductStatus(archived.id, ""))

    async def names(query: commands.ListProducts) -> list[str]:
        return [p.display_name for p in (await catalog.products.list_products(ADMIN, query)).items]

    assert await names(products_query(brand="acme")) == ["Old trail", "Road", "Trail"]
    assert await names(products_query(category="Shoes")) == ["Old trail", "Road", "Trail"]
    assert await names(products_query(status=ProductStatus.ACTIVE, query="tra")) == ["Trail"]
    # every word starts some word of the product or of its variants
    assert await names(products_query(query="gore tr")) == ["Trail"]
    assert await names(products_query(query="rail")) == []
    assert trail.variants[0].sku == "TR-1"


async def test_a_page_token_only_serves_the_filters_it_was_made_for(catalog: Catalog) -> None:
    for name in ["a", "b"]:
        await catalog.create(name=name)
    first = await catalog.products.list_products(ADMIN, products_query(size=1))

    with pytest.raises(errors.InvalidArgument):
        await catalog.products.list_products(
            ADMIN, products_query(size=1, token=first.next_page_token, brand="x")
        )
    with pytest.raises(errors.InvalidArgument):
        await catalog.products.list_products(ADMIN, products_query(token="garbage"))


async def test_a_query_too_long_or_a_negative_page_size_is_refused(catalog: Catalog) -> None:
    with pytest.raises(errors.InvalidArgument):
        await catalog.products.list_products(ADMIN, products_query(query="x" * 201))
    with pytest.raises(errors.InvalidArgument):
        await catalog.variants.list_variants(ADMIN, variants_query(size=-1))


async def test_variants_page_by_sku_across_products_or_within_one(catalog: Catalog) -> None:
    one = await catalog.create(new("c-1"), new("A-1"))
    await catalog.create(new("B-1"), new("d-1"))

    first = await catalog.variants.list_variants(ADMIN, variants_query(size=3))
    rest = await catalog.variants.list_variants(ADMIN, variants_query(size=3, token=first.next_page_token))
    of_one = await catalog.variants.list_variants(ADMIN, variants_query(one.id))

    assert [v.sku for v in first.items] == ["A-1", "B-1", "c-1"]
    assert ([v.sku for v in rest.items], rest.next_page_token) == (["d-1"], "")
    assert [v.sku for v in of_one.items] == ["A-1", "c-1"]


async def test_variants_filter_by_status_and_words(catalog: Catalog) -> None:
    product = await catalog.create(new("RED-1", attributes={"color": "crimson"}), new("BLUE-1"))
    red = next(v for v in product.variants if v.sku == "RED-1")
    await catalog.variants.archive_variant(ADMIN, "a-1", commands.ChangeVariantStatus(product.id, red.id, ""))

    active = await catalog.variants.list_variants(ADMIN, variants_query(status=VariantStatus.ACTIVE))
    crimson = await catalog.variants.list_variants(ADMIN, variants_query(query="crim"))

    assert [v.sku for v in active.items] == ["BLUE-1"]
    assert [v.sku for v in crimson.items] == ["RED-1"]


async def test_the_variants_of_a_missing_product_are_not_found(catalog: Catalog) -> None:
    with pytest.raises(errors.NotFound):
        await catalog.variants.list_variants(ADMIN, variants_query("nope"))
