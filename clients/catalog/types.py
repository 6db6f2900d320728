"""What callers of svc_catalog see, free of gRPC: variants looked up by SKU."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kit import errors


@dataclass(frozen=True)
class Money:
    """A list price as google.type.Money holds it."""

    currency_code: str
    units: int
    nanos: int


@dataclass(frozen=True)
class Variant:
    sku: str
    description: str  # the product's and the variant's display names, as a line shows them
    list_price: Money
    archived: bool


@dataclass(frozen=True)
class Lookup:
    variants: dict[str, Variant]  # archived ones included
    unknown: tuple[str, ...]  # the SKUs no variant of the caller's tenant carries


class Catalog(Protocol):
    async def variants(self, skus: Sequence[str]) -> Lookup:
        """The caller's tenant's variants of `skus` and the SKUs no variant carries."""
        ...


def not_in_catalog(sku: str) -> str:
    """How every service says that the catalog does not know `sku`."""
    return f"no variant with SKU {sku!r} in the catalog"


UNKNOWN_SKU = "UNKNOWN_SKU"


def add_unknown_skus(violations: errors.Violations, lines: Iterable[tuple[str, str]]) -> None:
    """SKUs the catalog does not know, among a request's other violations:
    one per (field path, SKU), named UNKNOWN_SKU."""
    for path, sku in lines:
        violations.add(path, not_in_catalog(sku), reason=UNKNOWN_SKU)


def unknown_skus(lines: Iterable[tuple[str, str]]) -> errors.InvalidArgument:
    """The refusal of SKUs the catalog does not know, the same in every
    service: reason UNKNOWN_SKU, one violation per (field path, SKU)."""
    return errors.InvalidArgument(
        [errors.FieldViolation(path, not_in_catalog(sku)) for path, sku in lines], reason=UNKNOWN_SKU
    )
