"""Products on SQL, read with their variants (by SKU)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.where import one_of
from svc_catalog import domain, ports
from svc_catalog.domain import Product, ProductStatus, Variant
from svc_catalog.store import search
from svc_catalog.store.tables import products
from svc_catalog.store.variants import variants_of


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


def _values(product: Product) -> dict[str, Any]:
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


class SqlProducts(ports.Products):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(
        self, tenant_id: str, product_id: str, *, lock: bool = False, variants: bool = True
    ) -> Product | None:
        query = select(products).where(products.c.tenant_id == tenant_id, products.c.id == product_id)
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        found = await variants_of(self.conn, tenant_id, [product_id]) if variants else {}
        return _product(row, found.get(product_id, []))

    async def by_ids(self, tenant_id: str, product_ids: Iterable[str]) -> dict[str, Product]:
        query = select(products).where(
            products.c.tenant_id == tenant_id, one_of(products.c.id, product_ids, self.conn.dialect)
        )
        return {row.id: _product(row) for row in (await self.conn.execute(query)).all()}

    async def exists(self, tenant_id: str, product_id: str) -> bool:
        query = select(products.c.id).where(products.c.tenant_id == tenant_id, products.c.id == product_id)
        return (await self.conn.execute(query)).first() is not None

    async def add(self, product: Product) -> None:
        await self.conn.execute(
            insert(products).values(
                id=product.id, tenant_id=product.tenant_id, created_at=product.created_at, **_values(product)
            )
        )

    async def save(self, product: Product, expected_version: int) -> bool:
        result = await self.conn.execute(
            update(products)
            .where(
                products.c.tenant_id == product.tenant_id,
                products.c.id == product.id,
                products.c.version == expected_version,
            )
            .values(**_values(product))
        )
        return int(result.rowcount) == 1

    async def refresh_search_text(self, product: Product) -> None:
        await self.conn.execute(
            update(products)
            .where(products.c.tenant_id == product.tenant_id, products.c.id == product.id)
            .values(search_text=domain.product_search_text(product))
        )

    async def list(
        self,
        tenant_id: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        status: ProductStatus | None,
        words: Sequence[str],
        brand: str,
        category: str,
    ) -> list[Product]:
        query = select(products).where(products.c.tenant_id == tenant_id)
        if after is not None:
            key, last_id = after
            # A row comparison: both databases position the index scan on it.
            query = query.where(tuple_(products.c.sort_key, products.c.id) > tuple_(key, last_id))
        if status is not None:
            query = query.where(products.c.status == status.value)
        if brand:
            query = query.where(products.c.brand_key == brand.casefold())
        if category:
            below = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
            query = query.where(
                or_(products.c.category == category, products.c.category.like(below, escape="\\"))
            )
        query = query.where(*search.matches(products, words, self.conn.dialect.name))
        ordered = query.order_by(products.c.sort_key, products.c.id).limit(limit)
        rows = (await self.conn.execute(ordered)).all()
        found = await variants_of(self.conn, tenant_id, [r.id for r in rows])
        return [_product(r, found.get(r.id, [])) for r in rows]
