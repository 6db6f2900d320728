"""What svc_order needs of the catalog: the variants behind some SKUs.

A port, so use cases depend on the question, not on gRPC; app.py plugs in
the gRPC client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from svc_order.domain import CatalogVariant


@dataclass(frozen=True)
class Lookup:
    variants: dict[str, CatalogVariant]
    unknown: tuple[str, ...]


class Catalog(Protocol):
    async def variants(self, skus: Sequence[str]) -> Lookup:
        """The caller's tenant's variants of `skus` (archived ones included)
        and the SKUs no variant carries."""
        ...
