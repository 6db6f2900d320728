"""Lookups for scanners and other services: by barcode, by SKU, and many SKUs at once."""

from __future__ import annotations

from dataclasses import dataclass

from kit.auth import Principal
from kit.errors import FieldViolation, InvalidArgument, NotFound, Violations
from kit.uow import Units
from svc_catalog import domain
from svc_catalog.domain import Variant
from svc_catalog.ports import CatalogUnit
from svc_catalog.usecases.cache import FOUND, CatalogCache, Found


@dataclass(frozen=True)
class Batch:
    variants: list[Variant]  # in the order their SKUs first appear in the request
    unknown_skus: list[str]


class Lookups:
    def __init__(self, units: Units[CatalogUnit], cache: CatalogCache) -> None:
        self.units = units
        self.cache = cache

    async def lookup_barcode(self, who: Principal, barcode: str) -> Found:
        violations = Violations()
        domain.check_barcode(barcode, "barcode", violations, required=True)
        violations.raise_if_any()
        gtin14 = domain.gtin14(barcode)

        async def load() -> Found | None:
            async with self.units.read() as uow:
                return await _with_product(
                    uow, who.tenant_id, await uow.variants.by_barcode(who.tenant_id, gtin14)
                )

        key = self.cache.barcode(who.tenant_id, gtin14)
        found = await self.cache.cache.get_or_load(key, load, FOUND.encode, FOUND.decode)
        if found is None:
            raise NotFound("barcode", barcode)
        return found

    async def lookup_sku(self, who: Principal, sku: str) -> Found:
        if not sku:
            raise InvalidArgument([FieldViolation("sku", "required")])

        async def load() -> Found | None:
            async with self.units.read() as uow:
                return await _with_product(uow, who.tenant_id, await uow.variants.by_sku(who.tenant_id, sku))

        # A string no variant can carry is not worth a query or a key.
        found = None
        if domain.SKU.fullmatch(sku):
            key = self.cache.sku(who.tenant_id, sku)
            found = await self.cache.cache.get_or_load(key, load, FOUND.encode, FOUND.decode)
        if found is None:
            raise NotFound("variant", f"sku {sku}")
        return found

    async def batch_get_variants(self, who: Principal, skus: list[str]) -> Batch:
        wanted = list(dict.fromkeys(skus))  # duplicates collapsed, first appearance kept
        if not 1 <= len(wanted) <= domain.MAX_BATCH:
            raise InvalidArgument([FieldViolation("skus", f"1 to {domain.MAX_BATCH} distinct SKUs")])
        valid = [s for s in wanted if domain.SKU.fullmatch(s)]
        keys = {self.cache.sku(who.tenant_id, s): s for s in valid}

        async def load(missing: list[str]) -> dict[str, Found]:
            async with self.units.read() as uow:
                variants = await uow.variants.by_skus(who.tenant_id, [keys[k] for k in missing])
                owners = await uow.products.by_ids(who.tenant_id, {v.product_id for v in variants})
            by_sku = {v.sku: Found(v, owners[v.product_id]) for v in variants}
            return {k: by_sku[keys[k]] for k in missing if keys[k] in by_sku}

        found = await self.cache.cache.get_many_or_load(list(keys), load, FOUND.encode, FOUND.decode)
        by_sku = {f.variant.sku: f.variant for f in found.values()}
        return Batch([by_sku[s] for s in wanted if s in by_sku], [s for s in wanted if s not in by_sku])


async def _with_product(uow: CatalogUnit, tenant_id: str, variant: Variant | None) -> Found | None:
    if variant is None:
        return None
    product = await uow.products.get(tenant_id, variant.product_id, variants=False)
    return Found(variant, product) if product else None
