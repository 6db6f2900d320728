"""svc_catalog's repositories in memory, for fast specifications: the same
ordering, filters, version checks and uniqueness refusals as `svc_catalog.store`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kit.cache import Missed
from kit.memory import Memory, MemoryUnitOfWork, State
from kit.uow import Units
from svc_catalog import domain, ports
from svc_catalog.domain import Product, ProductStatus, Variant, VariantStatus
from svc_catalog.ports import CatalogUnit


@dataclass
class CatalogState(State):
    products: dict[str, Product] = field(default_factory=dict)  # without their variants
    search_texts: dict[str, str] = field(default_factory=dict)  # by product id, as stored
    variants: dict[str, Variant] = field(default_factory=dict)
    missed: list[Missed] = field(default_factory=list)
    missed_count: int = 0  # the last id given to a note, as a sequence would


def _matches(search_text: str, words: Iterable[str]) -> bool:
    """The LIKE '% word%' of the SQL store: some word of the text starts with each word."""
    return all(f" {w}" in search_text for w in words)


class MemoryVariants(ports.Variants):
    def __init__(self, state: CatalogState) -> None:
        self.state = state

    def _read(self, variant: Variant) -> Variant:
        """As SQL reads it: with its product's display name (a join)."""
        owner = self.state.products[variant.product_id]
        return dataclasses.replace(variant, product_display_name=owner.display_name)

    def of_tenant(self, tenant_id: str) -> list[Variant]:
        found = [v for v in self.state.variants.values() if v.tenant_id == tenant_id]
        return [self._read(v) for v in sorted(found, key=lambda v: domain.sku_key(v.sku))]

    def _refuse_duplicates(self, variant: Variant) -> None:
        for other in self.state.variants.values():
            if other.tenant_id != variant.tenant_id or other.id == variant.id:
                continue
            if domain.sku_key(other.sku) == domain.sku_key(variant.sku):
                raise ports.Duplicate("sku")
            if (
                variant.barcode
                and other.barcode
                and domain.gtin14(other.barcode) == domain.gtin14(variant.barcode)
            ):
                raise ports.Duplicate("barcode")

    async def add(self, variant: Variant) -> None:
        self._refuse_duplicates(variant)
        self.state.variants[variant.id] = variant

    async def save(self, variant: Variant, expected_version: int) -> bool:
        current = self.state.variants.get(variant.id)
        if current is None or current.tenant_id != variant.tenant_id or current.version != expected_version:
            return False
        self._refuse_duplicates(variant)
        # SKU, unit and creation time never change once written.
        self.state.variants[variant.id] = dataclasses.replace(
            variant, sku=current.sku, unit_of_measure=current.unit_of_measure, created_at=current.created_at
        )
        return True

    async def get(self, tenant_id: str, product_id: str, variant_id: str) -> Variant | None:
        found = self.state.variants.get(variant_id)
        if found is None or found.tenant_id != tenant_id or found.product_id != product_id:
            return None
        return self._read(found)

    async def by_sku(self, tenant_id: str, sku: str) -> Variant | None:
        return next((v for v in self.of_tenant(tenant_id) if v.sku == sku), None)

    async def by_skus(self, tenant_id: str, skus: Sequence[str]) -> list[Variant]:
        wanted = set(skus)
        return [v for v in self.of_tenant(tenant_id) if v.sku in wanted]

    async def by_barcode(self, tenant_id: str, gtin14: str) -> Variant | None:
        found = (v for v in self.of_tenant(tenant_id) if v.barcode and domain.gtin14(v.barcode) == gtin14)
        return next(found, None)

    async def taken_skus(self, tenant_id: str, sku_keys: Iterable[str]) -> set[str]:
        return {domain.sku_key(v.sku) for v in self.of_tenant(tenant_id)} & set(sku_keys)

    async def taken_barcodes(self, tenant_id: str, gtin14s: Iterable[str], *, besides: str = "") -> set[str]:
        carried = {
            domain.gtin14(v.barcode) for v in self.of_tenant(tenant_id) if v.barcode and v.id != besides
        }
        return carried & set(gtin14s)

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
        found = [
            v
            for v in self.of_tenant(tenant_id)
            if domain.sku_key(v.sku) > after
            and (product_id is None or v.product_id == product_id)
            and (status is None or v.status is status)
            and _matches(domain.variant_search_text(v), words)
        ]
        return found[:limit]


class MemoryProducts(ports.Products):
    def __init__(self, state: CatalogState, variants: MemoryVariants) -> None:
        self.state = state
        self.variants = variants

    def _with_variants(self, product: Product) -> Product:
        of_product = [v for v in self.variants.of_tenant(product.tenant_id) if v.product_id == product.id]
        return dataclasses.replace(product, variants=tuple(of_product))

    def _stored(self, tenant_id: str, product_id: str) -> Product | None:
        found = self.state.products.get(product_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def get(
        self, tenant_id: str, product_id: str, *, lock: bool = False, variants: bool = True
    ) -> Product | None:
        found = self._stored(tenant_id, product_id)
        if found is None:
            return None
        return self._with_variants(found) if variants else found

    async def by_ids(self, tenant_id: str, product_ids: Iterable[str]) -> dict[str, Product]:
        found = (self._stored(tenant_id, product_id) for product_id in set(product_ids))
        return {p.id: p for p in found if p is not None}

    async def exists(self, tenant_id: str, product_id: str) -> bool:
        return self._stored(tenant_id, product_id) is not None

    def _keep(self, product: Product) -> None:
        self.state.products[product.id] = dataclasses.replace(product, variants=())
        self.state.search_texts[product.id] = domain.product_search_text(product)

    async def add(self, product: Product) -> None:
        self._keep(product)

    async def save(self, product: Product, expected_version: int) -> bool:
        current = self._stored(product.tenant_id, product.id)
        if current is None or current.version != expected_version:
            return False
        self._keep(dataclasses.replace(product, created_at=current.created_at))
        return True

    async def refresh_search_text(self, product: Product) -> None:
        if self._stored(product.tenant_id, product.id) is not None:
            self.state.search_texts[product.id] = domain.product_search_text(product)

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
        def wanted(p: Product) -> bool:
            return (
                p.tenant_id == tenant_id
                and (after is None or (domain.sort_key(p.display_name), p.id) > after)
                and (status is None or p.status is status)
                and (not brand or p.brand.casefold() == brand.casefold())
                and (not category or p.category == category or p.category.startswith(f"{category}/"))
                and _matches(self.state.search_texts[p.id], words)
            )

        found = sorted(
            filter(wanted, self.state.products.values()),
            key=lambda p: (domain.sort_key(p.display_name), p.id),
        )
        return [self._with_variants(p) for p in found[:limit]]


class MemoryMissedInvalidations(ports.MissedInvalidations):
    def __init__(self, state: CatalogState) -> None:
        self.state = state

    async def add(self, keys: Collection[str], at: datetime) -> None:
        self.state.missed_count += 1
        self.state.missed.append(Missed(self.state.missed_count, tuple(sorted(keys)), at))

    async def since(self, moment: datetime) -> list[Missed]:
        return [m for m in self.state.missed if m.at >= moment]

    async def forget(self, before: datetime) -> None:
        self.state.missed = [m for m in self.state.missed if m.at >= before]


class MemoryCatalogUnit(MemoryUnitOfWork[CatalogState], CatalogUnit):
    def bind(self, state: CatalogState) -> None:
        self.variants = MemoryVariants(state)
        self.products = MemoryProducts(state, self.variants)
        self.missed = MemoryMissedInvalidations(state)


def units(clock: Callable[[], datetime], memory: Memory[CatalogState] | None = None) -> Units[CatalogUnit]:
    """Units of work on `memory` (a fresh, empty catalog when None)."""
    committed = memory or Memory(CatalogState())

    def open_unit(*, read_only: bool) -> CatalogUnit:
        return MemoryCatalogUnit(committed, read_only=read_only)

    return Units(open_unit, clock)
