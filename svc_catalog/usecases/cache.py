"""What the catalog caches, under which keys, and what a write invalidates.

Keys: `product:{id}` (with its variants), `variant:{id}`, `sku:{sku}` and
`barcode:{gtin14}` (a variant with its product). A change of a product
affects its key and every variant's keys (variants carry the product's
name); a change of variants affects the product's key and theirs, old
barcodes included. Invalidations a write could not deliver to Redis are
noted in the catalog's database, where every replica reads them (kit.cache).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import msgspec

from kit.cache import Cache, Missed, MissedLog
from kit.uow import Units
from svc_catalog import domain
from svc_catalog.domain import Product, Variant
from svc_catalog.ports import CatalogUnit

T = TypeVar("T")


@dataclass(frozen=True)
class Found:
    """A variant and its product (without the product's variants)."""

    variant: Variant
    product: Product


class Codec(Generic[T]):
    def __init__(self, kind: type[T]) -> None:
        self.encode: Callable[[T], bytes] = msgspec.json.encode
        self.decode: Callable[[bytes], T] = msgspec.json.Decoder(kind).decode


PRODUCT = Codec(Product)
VARIANT = Codec(Variant)
FOUND = Codec(Found)


class CatalogCache:
    """The catalog's keys on one `kit.cache.Cache`."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def product(self, tenant_id: str, product_id: str) -> str:
        return self.cache.key(tenant_id, "product", product_id)

    def variant(self, tenant_id: str, variant_id: str) -> str:
        return self.cache.key(tenant_id, "variant", variant_id)

    def sku(self, tenant_id: str, sku: str) -> str:
        return self.cache.key(tenant_id, "sku", sku)

    def barcode(self, tenant_id: str, gtin14: str) -> str:
        return self.cache.key(tenant_id, "barcode", gtin14)

    def affected(self, product: Product, variants: Iterable[Variant] | None = None) -> set[str]:
        """What a change of `product` (or of some of its `variants`) affects."""
        tenant = product.tenant_id
        keys = {self.product(tenant, product.id)}
        for v in product.variants if variants is None else variants:
            keys |= {self.variant(tenant, v.id), self.sku(tenant, v.sku)}
            if v.barcode:
                keys.add(self.barcode(tenant, domain.gtin14(v.barcode)))
        return keys

    async def written(self, product: Product, variants: Iterable[Variant] | None = None) -> None:
        """Invalidate what a committed write of `product` (or of some of its `variants`) affected."""
        await self.cache.invalidate(self.affected(product, variants))


class MissedInDatabase(MissedLog):
    """The notes of missed invalidations in the catalog's own database,
    kept `keep` long (past the TTL, after which their entries have expired)."""

    def __init__(self, units: Units[CatalogUnit], keep: timedelta) -> None:
        self.units = units
        self.keep = keep

    async def note(self, keys: Collection[str]) -> None:
        async def work(uow: CatalogUnit) -> None:
            now = self.units.now()  # read inside the transaction, just before it commits
            await uow.missed.forget(now - self.keep)
            await uow.missed.add(keys, now)

        await self.units.run(work)

    async def since(self, moment: datetime) -> list[Missed]:
        async with self.units.read() as uow:
            return await uow.missed.since(moment)
