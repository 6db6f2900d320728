"""Variants on SQL. A variant row carries its product's display name when read (a join)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.where import one_of
from svc_catalog import domain, ports
from svc_catalog.domain import Money, Variant, VariantStatus
from svc_catalog.store import search
from svc_catalog.store.tables import products, variants


def duplicate(exc: IntegrityError) -> ports.Duplicate | None:
    # SQLite names the columns, PostgreSQL the constraint; both mention the key column.
    text = str(exc.orig)
    if "sku_key" in text:
        return ports.Duplicate("sku")
    if "barcode_key" in text:
        return ports.Duplicate("barcode")
    return None


def variant_select() -> Select[Any]:
    return select(variants, products.c.display_name.label("product_display_name")).join(
        products, products.c.id == variants.c.product_id
    )


def variant_of(row: Any) -> Variant:
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


async def variants_of(
    conn: AsyncConnection, tenant_id: str, product_ids: Sequence[str]
) -> dict[str, list[Variant]]:
    """The variants of these products by SKU, per product."""
    if not product_ids:
        return {}
    query = (
        variant_select()
        .where(variants.c.tenant_id == tenant_id, one_of(variants.c.product_id, product_ids, conn.dialect))
        .order_by(variants.c.sku_key)
    )
    out: dict[str, list[Variant]] = {}
    for row in (await conn.execute(query)).all():
        out.setdefault(row.product_id, []).append(variant_of(row))
    return out


def _values(variant: Variant) -> dict[str, Any]:
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


class SqlVariants(ports.Variants):
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _write(self, statement: Any) -> int:
        """Run `statement`; a unique constraint it trips becomes Duplicate."""
        try:
            result = await self.conn.execute(statement)
        except IntegrityError as exc:
            found = duplicate(exc)
            if found is None:
                raise
            raise found from exc
        return int(result.rowcount)

    async def add(self, variant: Variant) -> None:
        await self._write(
            insert(variants).values(
                id=variant.id,
                tenant_id=variant.tenant_id,
                product_id=variant.product_id,
                sku=variant.sku,
                sku_key=domain.sku_key(variant.sku),
                unit_of_measure=variant.unit_of_measure,
                created_at=variant.created_at,
                **_values(variant),
            )
        )

    async def save(self, variant: Variant, expected_version: int) -> bool:
        statement = (
            update(variants)
            .where(
                variants.c.tenant_id == variant.tenant_id,
                variants.c.id == variant.id,
                variants.c.version == expected_version,
            )
            .values(**_values(variant))
        )
        return await self._write(statement) == 1

    async def _one(self, *where: ColumnElement[bool]) -> Variant | None:
        row = (await self.conn.execute(variant_select().where(*where))).first()
        return variant_of(row) if row else None

    async def get(self, tenant_id: str, product_id: str, variant_id: str) -> Variant | None:
        return await self._one(
            variants.c.tenant_id == tenant_id,
            variants.c.product_id == product_id,
            variants.c.id == variant_id,
        )

    async def by_sku(self, tenant_id: str, sku: str) -> Variant | None:
        # sku_key narrows it to one row through the unique index.
        return await self._one(
            variants.c.tenant_id == tenant_id,
            variants.c.sku_key == domain.sku_key(sku),
            variants.c.sku == sku,
        )

    async def by_skus(self, tenant_id: str, skus: Sequence[str]) -> list[Variant]:
        wanted = set(skus)
        query = variant_select().where(
            variants.c.tenant_id == tenant_id,
            one_of(variants.c.sku_key, {domain.sku_key(s) for s in wanted}, self.conn.dialect),
        )
        return [v for v in map(variant_of, (await self.conn.execute(query)).all()) if v.sku in wanted]

    async def by_barcode(self, tenant_id: str, gtin14: str) -> Variant | None:
        return await self._one(variants.c.tenant_id == tenant_id, variants.c.barcode_key == gtin14)

    async def taken_skus(self, tenant_id: str, sku_keys: Iterable[str]) -> set[str]:
        query = select(variants.c.sku_key).where(
            variants.c.tenant_id == tenant_id, variants.c.sku_key.in_(sorted(set(sku_keys)))
        )
        return set((await self.conn.execute(query)).scalars())

    async def taken_barcodes(self, tenant_id: str, gtin14s: Iterable[str], *, besides: str = "") -> set[str]:
        query = select(variants.c.barcode_key).where(
            variants.c.tenant_id == tenant_id,
            variants.c.barcode_key.in_(sorted(set(gtin14s))),
            variants.c.id != besides,
        )
        return set((await self.conn.execute(query)).scalars())

    async def list(
        self,
        tenant_id: str,
        *,
        product_id: str | None,
        after: str,
        limit: int,
        status: VariantStatus | None,
        words: Sequence[str],
    ) -> list[Variant]:
        where = [variants.c.tenant_id == tenant_id, variants.c.sku_key > after]
        if product_id is not None:
            where.append(variants.c.product_id == product_id)
        if status is not None:
            where.append(variants.c.status == status.value)
        where += search.matches(variants, words, self.conn.dialect.name)
        if words and self.conn.dialect.name == "postgresql":
            few = search.few_first(variant_select(), variants, where, [variants.c.sku_key], limit)
            rows = (await self.conn.execute(few)).all()
            if not rows or rows[0].matched <= search.FEW:
                return [variant_of(r) for r in rows]
        query = variant_select().where(*where).order_by(variants.c.sku_key).limit(limit)
        rows = (await self.conn.execute(query)).all()
        return [variant_of(r) for r in rows]
