"""The catalog's use cases on in-memory units of work and a cache with no
Redis (kit.cache's no-op mode), which records what each write invalidates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from kit.auth import Principal, Role
from kit.cache import Cache
from kit.errors import InvalidArgument
from kit.memory import Memory
from svc_catalog import commands
from svc_catalog.domain import Money, Product
from svc_catalog.usecases.cache import CatalogCache
from svc_catalog.usecases.lookups import Lookups
from svc_catalog.usecases.products import Products
from svc_catalog.usecases.variants import Variants
from tests.fakes import catalog as fake

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADMIN = Principal("u-1", "tenant-a", frozenset({Role.ADMIN}), "token-1")
OTHER_TENANT = Principal("u-2", "tenant-b", frozenset({Role.ADMIN}), "token-2")


class RecordingCache(Cache):
    """No Redis; remembers the keys each invalidation was asked to delete."""

    def __init__(self) -> None:
        super().__init__(None, service="catalog")
        self.invalidated: list[set[str]] = []

    async def invalidate(self, keys: Iterable[str]) -> None:
        self.invalidated.append(set(keys))
        await super().invalidate(keys)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Catalog:
    """svc_catalog's use cases on one in-memory catalog."""

    memory: Memory[fake.CatalogState]
    clock: Clock
    cache: RecordingCache
    products: Products
    variants: Variants
    lookups: Lookups
    ids: list[str] = field(default_factory=list)

    def request_id(self) -> str:
        self.ids.append(f"req-{len(self.ids) + 1}")
        return self.ids[-1]

    async def create(
        self, *variants: commands.NewVariant, name: str = "Trail shoe", **fields: str
    ) -> Product:
        cmd = commands.CreateProduct(
            display_name=name,
            description=fields.get("description", ""),
            brand=fields.get("brand", ""),
            category=fields.get("category", ""),
            variants=variants,
        )
        return await self.products.create_product(ADMIN, self.request_id(), cmd)


@pytest.fixture
def catalog() -> Catalog:
    clock = Clock()
    memory = Memory(fake.CatalogState())
    units = fake.units(clock, memory)
    cache = RecordingCache()
    keys = CatalogCache(cache)
    return Catalog(memory, clock, cache, Products(units, keys), Variants(units, keys), Lookups(units, keys))


def new(
    sku: str,
    *,
    barcode: str = "",
    units: int = 10,
    display_name: str = "",
    attributes: dict[str, str] | None = None,
    unit_of_measure: str = "",
) -> commands.NewVariant:
    return commands.NewVariant(
        sku=sku,
        display_name=display_name,
        attributes=attributes or {},
        unit_of_measure=unit_of_measure,
        list_price=Money("EUR", units, 0),
        barcode=barcode,
    )


def fields_of(error: InvalidArgument) -> list[str]:
    """The field paths an InvalidArgument names, in order."""
    return [v.field for v in error.violations]
