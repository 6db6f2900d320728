"""svc_catalog's tables and queries (SQLAlchemy Core; SQLite and PostgreSQL).

Prices are stored as google.type.Money holds them (currency, units, nanos),
so any currency and precision round-trips exactly. Case-insensitive and
word-prefix matching use columns the domain normalizes (`sku_key`,
`brand_key`, `barcode_key`, `search_text`), so the same query works on both
databases without collations or full-text extensions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, idempotency
from kit.db import UtcDateTime
from svc_catalog import domain
from svc_catalog.domain import Money, Product, ProductStatus, Variant, VariantStatus

metadata = db.metadata()

_ARCHIVED_WHEN = (
    "(status = 'active' AND archived_at IS NULL) OR (status = 'archived' AND archived_at IS NOT NULL)"
)

products = Table(
    "products",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False),
    Column("display_name", String(domain.MAX_NAME), nullable=False),
    Column("sort_key", String(3 * domain.MAX_NAME), nullable=False),  # display_name case-folded
    Column("description", Text, nullable=False),
    Column("brand", String(domain.MAX_BRAND), nullable=False),
    Column("brand_key", String(3 * domain.MAX_BRAND), nullable=False),  # brand case-folded
    Column("category", String(domain.MAX_CATEGORY), nullable=False),
    Column("status", String(16), nullable=False),
    Column("search_text", Text, nullable=False),  # see domain.product_search_text
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Index(None, "tenant_id", "sort_key", "id"),
    CheckConstraint("status IN ('active', 'archived')", name="status_known"),
    CheckConstraint(_ARCHIVED_WHEN, name="archived_at_iff_archived"),
)

variants = Table(
    "variants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False),
    Column("product_id", String(36), ForeignKey("products.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("sku_key", String(64), nullable=False),  # lower-cased: unique per tenant ignoring case
    Column("display_name", String(domain.MAX_NAME), nullable=False),
    Column("attributes", Text, nullable=False),  # JSON object of strings
    Column("unit_of_measure", String(3), nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("price_units", BigInteger, nullable=False),
    Column("price_nanos", Integer, nullable=False),
    Column("barcode", String(14), nullable=True),  # as given
    Column("barcode_key", String(14), nullable=True),  # GTIN-14: unique per tenant
    Column("status", String(16), nullable=False),
    Column("search_text", Text, nullable=False),  # see domain.variant_search_text
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("tenant_id", "sku_key"),
    UniqueConstraint("tenant_id", "barcode_key"),
    Index(None, "product_id"),
    CheckConstraint("status IN ('active', 'archived')", name="status_known"),
    CheckConstraint(_ARCHIVED_WHEN, name="archived_at_iff_archived"),
    CheckConstraint(
        "price_units >= 0 AND price_nanos >= 0 AND price_nanos < 1000000000", name="price_not_negative"
    ),
    CheckConstraint("(barcode IS NULL) = (barcode_key IS NULL)", name="barcode_with_its_key"),
)

idempotency_records = idempotency.table(metadata)


class Duplicate(Exception):
    """A unique constraint refused a write: another variant of the tenant holds the SKU or barcode."""

    def __init__(self, what: Literal["sku", "barcode"]) -> None:
        super().__init__(what)
        self.what = what


def _duplicate(exc: IntegrityError) -> Duplicate | None:
    # SQLite names the columns, PostgreSQL the constraint; both mention the key column.
    text = str(exc.orig)
    if "sku_key" in text:
        return Duplicate("sku")
    if "barcode_key" in text:
        return Duplicate("barcode")
    return None


def _variant_select() -> Select[Any]:
    return select(variants, products.c.display_name.label("product_display_name")).join(
        products, products.c.id == variants.c.product_id
    )


def _variant(row: Any) -> Variant:
    return Variant(
        id=row.id,
        tenant_id=row.tenant_id,
        product_id=row.product_id,
        sku=row.sku,
        display_name=row.display_name,
        attributes=json.loads(row.attributes),
        unit_of_measure=row.unit_of_measure,
        list_price=Money(row.price_currency, row.price_units, row.price_nanos),
        barcode=row.barcode or "",
        status=VariantStatus(row.status),
        product_display_name=row.product_display_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        version=row.version,
    )


def _product(row: Any, of_product: Sequence[Variant] = ()) -> Product:
    return Product(
        id=row.id,
        tenant_id=row.tenant_id,
        display_name=row.display_name,
        description=row.description,
        brand=row.brand,
        category=row.category,
        status=ProductStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
        version=row.version,
        variants=tuple(of_product),
    )


def _product_values(product: Product) -> dict[str, Any]:
    return {
        "display_name": product.display_name,
        "sort_key": domain.sort_key(product.display_name),
        "description": product.description,
        "brand": product.brand,
        "brand_key": product.brand.casefold(),
        "category": product.category,
        "status": product.status.value,
        "search_text": domain.product_search_text(product),
        "updated_at": product.updated_at,
        "archived_at": product.archived_at,
        "version": product.version,
    }


def _variant_values(variant: Variant) -> dict[str, Any]:
    return {
        "display_name": variant.display_name,
        "attributes": json.dumps(variant.attributes, sort_keys=True),
        "price_currency": variant.list_price.currency_code,
        "price_units": variant.list_price.units,
        "price_nanos": variant.list_price.nanos,
        "barcode": variant.barcode or None,
        "barcode_key": domain.gtin14(variant.barcode) if variant.barcode else None,
        "status": variant.status.value,
        "search_text": domain.variant_search_text(variant),
        "updated_at": variant.updated_at,
        "archived_at": variant.archived_at,
        "version": variant.version,
    }


def like_word(word: str) -> str:
    """A LIKE pattern for "some word of search_text starts with `word`"."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped}%"


def _matches_all(column: Any, words: Iterable[str]) -> list[ColumnElement[bool]]:
    return [column.like(like_word(w), escape="\\") for w in words]


# --- writes --------------------------------------------------------------------


async def insert_product(conn: AsyncConnection, product: Product) -> None:
    await conn.execute(
        insert(products).values(
            id=product.id,
            tenant_id=product.tenant_id,
            created_at=product.created_at,
            **_product_values(product),
        )
    )


async def insert_variant(conn: AsyncConnection, variant: Variant) -> None:
    """Raises Duplicate when a concurrent writer took the SKU or barcode first."""
    statement = insert(variants).values(
        id=variant.id,
        tenant_id=variant.tenant_id,
        product_id=variant.product_id,
        sku=variant.sku,
        sku_key=domain.sku_key(variant.sku),
        unit_of_measure=variant.unit_of_measure,
        created_at=variant.created_at,
        **_variant_values(variant),
    )
    try:
        await conn.execute(statement)
    except IntegrityError as exc:
        duplicate = _duplicate(exc)
        if duplicate is None:
            raise
        raise duplicate from exc


async def save_product(conn: AsyncConnection, product: Product, *, expected_version: int) -> bool:
    """Write the product's own fields (and its search text, from its variants)
    if nobody changed it since `expected_version` was read."""
    result = await conn.execute(
        update(products)
        .where(
            products.c.tenant_id == product.tenant_id,
            products.c.id == product.id,
            products.c.version == expected_version,
        )
        .values(**_product_values(product))
    )
    return result.rowcount == 1


async def save_variant(conn: AsyncConnection, variant: Variant, *, expected_version: int) -> bool:
    """Write the variant's mutable fields if its version is still `expected_version`;
    raises Duplicate when a concurrent writer took the barcode first."""
    statement = (
        update(variants)
        .where(
            variants.c.tenant_id == variant.tenant_id,
            variants.c.id == variant.id,
            variants.c.version == expected_version,
        )
        .values(**_variant_values(variant))
    )
    try:
        result = await conn.execute(statement)
    except IntegrityError as exc:
        duplicate = _duplicate(exc)
        if duplicate is None:
            raise
        raise duplicate from exc
    return result.rowcount == 1


async def set_search_text(conn: AsyncConnection, product: Product) -> None:
    """Refresh the product's search text after its variants changed (its version stays)."""
    await conn.execute(
        update(products)
        .where(products.c.tenant_id == product.tenant_id, products.c.id == product.id)
        .values(search_text=domain.product_search_text(product))
    )


# --- reads ---------------------------------------------------------------------


async def product_by_id(
    conn: AsyncConnection, tenant_id: str, product_id: str, *, lock: bool = False, variants: bool = True
) -> Product | None:
    """The product, with all its variants unless `variants` is False; `lock`
    takes the product row's lock, which every write of the product or of one
    of its variants takes first."""
    query = select(products).where(products.c.tenant_id == tenant_id, products.c.id == product_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    found = await _variants_of(conn, tenant_id, [product_id]) if variants else {}
    return _product(row, found.get(product_id, []))


async def products_by_ids(
    conn: AsyncConnection, tenant_id: str, product_ids: Iterable[str]
) -> dict[str, Product]:
    """The products by id, without their variants."""
    query = select(products).where(
        products.c.tenant_id == tenant_id, products.c.id.in_(sorted(set(product_ids)))
    )
    return {row.id: _product(row) for row in (await conn.execute(query)).all()}


async def _variants_of(
    conn: AsyncConnection, tenant_id: str, product_ids: Sequence[str]
) -> dict[str, list[Variant]]:
    if not product_ids:
        return {}
    query = (
        _variant_select()
        .where(variants.c.tenant_id == tenant_id, variants.c.product_id.in_(product_ids))
        .order_by(variants.c.sku_key)
    )
    out: dict[str, list[Variant]] = {}
    for row in (await conn.execute(query)).all():
        out.setdefault(row.product_id, []).append(_variant(row))
    return out


async def variant_by_id(
    conn: AsyncConnection, tenant_id: str, product_id: str, variant_id: str
) -> Variant | None:
    query = _variant_select().where(
        variants.c.tenant_id == tenant_id,
        variants.c.product_id == product_id,
        variants.c.id == variant_id,
    )
    row = (await conn.execute(query)).first()
    return _variant(row) if row else None


async def variant_by_sku(conn: AsyncConnection, tenant_id: str, sku: str) -> Variant | None:
    """Exact match; sku_key narrows it to one row through the unique index."""
    query = _variant_select().where(
        variants.c.tenant_id == tenant_id,
        variants.c.sku_key == domain.sku_key(sku),
        variants.c.sku == sku,
    )
    row = (await conn.execute(query)).first()
    return _variant(row) if row else None


async def variants_by_skus(conn: AsyncConnection, tenant_id: str, skus: Sequence[str]) -> list[Variant]:
    """The variants whose SKU is exactly one of `skus`, in no particular order."""
    wanted = set(skus)
    query = _variant_select().where(
        variants.c.tenant_id == tenant_id, variants.c.sku_key.in_(sorted({domain.sku_key(s) for s in wanted}))
    )
    return [v for v in map(_variant, (await conn.execute(query)).all()) if v.sku in wanted]


async def variant_by_barcode(conn: AsyncConnection, tenant_id: str, gtin14: str) -> Variant | None:
    query = _variant_select().where(variants.c.tenant_id == tenant_id, variants.c.barcode_key == gtin14)
    row = (await conn.execute(query)).first()
    return _variant(row) if row else None


async def taken_skus(conn: AsyncConnection, tenant_id: str, sku_keys: Iterable[str]) -> set[str]:
    """Which of these case-folded SKUs the tenant already uses."""
    query = select(variants.c.sku_key).where(
        variants.c.tenant_id == tenant_id, variants.c.sku_key.in_(sorted(set(sku_keys)))
    )
    return set((await conn.execute(query)).scalars())


async def taken_barcodes(
    conn: AsyncConnection, tenant_id: str, gtin14s: Iterable[str], *, besides: str = ""
) -> set[str]:
    """Which of these GTIN-14s a variant of the tenant (other than `besides`) carries."""
    query = select(variants.c.barcode_key).where(
        variants.c.tenant_id == tenant_id,
        variants.c.barcode_key.in_(sorted(set(gtin14s))),
        variants.c.id != besides,
    )
    return set((await conn.execute(query)).scalars())


async def list_products(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    after: tuple[str, str] | None,
    limit: int,
    status: ProductStatus | None,
    words: Sequence[str],
    brand: str,
    category: str,
) -> list[Product]:
    """Products by (case-folded display name, id) after the cursor, with their variants."""
    query = select(products).where(products.c.tenant_id == tenant_id)
    if after is not None:
        key, last_id = after
        query = query.where(
            or_(products.c.sort_key > key, and_(products.c.sort_key == key, products.c.id > last_id))
        )
    if status is not None:
        query = query.where(products.c.status == status.value)
    if brand:
        query = query.where(products.c.brand_key == brand.casefold())
    if category:
        below = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
        query = query.where(
            or_(products.c.category == category, products.c.category.like(below, escape="\\"))
        )
    query = query.where(*_matches_all(products.c.search_text, words))
    rows = (await conn.execute(query.order_by(products.c.sort_key, products.c.id).limit(limit))).all()
    found = await _variants_of(conn, tenant_id, [r.id for r in rows])
    return [_product(r, found.get(r.id, [])) for r in rows]


async def list_variants(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    product_id: str | None,
    after: str,
    limit: int,
    status: VariantStatus | None,
    words: Sequence[str],
) -> list[Variant]:
    """Variants by case-folded SKU (unique, so a total order) after the cursor."""
    query = _variant_select().where(variants.c.tenant_id == tenant_id, variants.c.sku_key > after)
    if product_id is not None:
        query = query.where(variants.c.product_id == product_id)
    if status is not None:
        query = query.where(variants.c.status == status.value)
    query = query.where(*_matches_all(variants.c.search_text, words))
    rows = (await conn.execute(query.order_by(variants.c.sku_key).limit(limit))).all()
    return [_variant(r) for r in rows]


async def product_exists(conn: AsyncConnection, tenant_id: str, product_id: str) -> bool:
    query = select(products.c.id).where(products.c.tenant_id == tenant_id, products.c.id == product_id)
    return (await conn.execute(query)).first() is not None
