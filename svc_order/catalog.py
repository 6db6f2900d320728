"""What svc_order needs of the catalog: the variants behind some SKUs, as an
order snapshots them (description, list price, archived).

Use cases depend on this view, not on gRPC; app.py hands it the shared
client (clients.catalog.client), whose refusals and failures arrive as
kit.errors (CATALOG_UNAVAILABLE when svc_catalog cannot answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import clients.catalog
from svc_order.domain import CatalogVariant, Money


@dataclass(frozen=True)
class Lookup:
    variants: dict[str, CatalogVariant]
    unknown: tuple[str, ...]


class Catalog(Protocol):
    async def variants(self, skus: Sequence[str]) -> Lookup:
        """The caller's tenant's variants of `skus` (archived ones included)
        and the SKUs no variant carries."""
        ...


class Snapshots:
    """The shared client's variants as an order snapshots them."""

    def __init__(self, source: clients.catalog.Catalog) -> None:
        self.source = source

    async def variants(self, skus: Sequence[str]) -> Lookup:
        found = await self.source.variants(skus)
        return Lookup({sku: _snapshot(v) for sku, v in found.variants.items()}, found.unknown)


def _snapshot(variant: clients.catalog.Variant) -> CatalogVariant:
    price = variant.list_price
    list_price = Money(price.currency_code, price.units, price.nanos)
    return CatalogVariant(variant.sku, variant.description, list_price, variant.archived)
