"""What svc_catalog's use cases need from storage, as abstractions: the
repositories of products, variants and missed cache invalidations, and the
unit of work that holds them. SQL implements them in `store`, memory in the
fast specifications' fakes; both refuse and order alike."""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Literal

from kit.cache import Missed
from kit.uow import UnitOfWork
from svc_catalog.domain import Product, ProductStatus, Variant, VariantStatus


class Duplicate(Exception):
    """A uniqueness rule refused a write: another variant of the tenant holds the SKU or barcode."""

    def __init__(self, what: Literal["sku", "barcode"]) -> None:
        super().__init__(what)
        self.what = what


class Products(abc.ABC):
    @abc.abstractmethod
    async def get(
        self, tenant_id: str, product_id: str, *, lock: bool = False, variants: bool = True
    ) -> Product | None:
        """The product, with all its variants (by SKU) unless `variants` is
        False; `lock` takes the product row's lock, which every write of the
        product or of one of its variants takes first."""

    @abc.abstractmethod
    async def by_ids(self, tenant_id: str, product_ids: Iterable[str]) -> dict[str, Product]:
        """The products by id, without their variants."""

    @abc.abstractmethod
    async def exists(self, tenant_id: str, product_id: str) -> bool: ...

    @abc.abstractmethod
    async def add(self, product: Product) -> None:
        """A new product, without its variants (added one by one)."""

    @abc.abstractmethod
    async def save(self, product: Product, expected_version: int) -> bool:
        """Write the product's own fields (and its search text, from its
        variants) if nobody changed it since `expected_version` was read."""

    @abc.abstractmethod
    async def refresh_search_text(self, product: Product) -> None:
        """The search text again, from `product`'s variants, after they changed (its version stays)."""

    @abc.abstractmethod
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
        """Products by (case-folded display name, id) after the cursor, with
        their variants; every word must start some word of the search text, the
        brand matches ignoring case, a category also finds its subcategories."""


class Variants(abc.ABC):
    @abc.abstractmethod
    async def add(self, variant: Variant) -> None:
        """Raises Duplicate when a variant of the tenant has the SKU or barcode."""

    @abc.abstractmethod
    async def save(self, variant: Variant, expected_version: int) -> bool:
        """Write the variant's mutable fields if its version is still
        `expected_version`; raises Duplicate when another variant has the barcode."""

    @abc.abstractmethod
    async def get(self, tenant_id: str, product_id: str, variant_id: str) -> Variant | None: ...

    @abc.abstractmethod
    async def by_sku(self, tenant_id: str, sku: str) -> Variant | None:
        """Exact match, case included."""

    @abc.abstractmethod
    async def by_skus(self, tenant_id: str, skus: Sequence[str]) -> list[Variant]:
        """The variants whose SKU is exactly one of `skus`, in no particular order."""

    @abc.abstractmethod
    async def by_barcode(self, tenant_id: str, gtin14: str) -> Variant | None: ...

    @abc.abstractmethod
    async def taken_skus(self, tenant_id: str, sku_keys: Iterable[str]) -> set[str]:
        """Which of these case-folded SKUs the tenant already uses."""

    @abc.abstractmethod
    async def taken_barcodes(self, tenant_id: str, gtin14s: Iterable[str], *, besides: str = "") -> set[str]:
        """Which of these GTIN-14s a variant of the tenant (other than `besides`) carries."""

    @abc.abstractmethod
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
        """Variants by case-folded SKU (unique, so a total order) after the cursor."""


class MissedInvalidations(abc.ABC):
    """Cache keys a write could not delete in Redis, for every replica to delete (see kit.cache)."""

    @abc.abstractmethod
    async def add(self, keys: Collection[str], at: datetime) -> None: ...

    @abc.abstractmethod
    async def since(self, moment: datetime) -> list[Missed]:
        """Those noted at `moment` or later, oldest first."""

    @abc.abstractmethod
    async def forget(self, before: datetime) -> None:
        """Drop those noted before `before`: their stale entries have expired."""


class CatalogUnit(UnitOfWork):
    products: Products
    variants: Variants
    missed: MissedInvalidations
