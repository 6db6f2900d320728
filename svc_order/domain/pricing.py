"""The catalog snapshot an order keeps: each line's description and prices
as the catalog had them when the order was placed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kit.errors import FailedPrecondition, PreconditionViolation, Violations
from svc_order.domain.money import Money
from svc_order.domain.orders import Line


@dataclass(frozen=True)
class CatalogVariant:
    """What an order snapshots of a variant."""

    sku: str
    description: str
    list_price: Money
    archived: bool


def price_lines(
    skus: Sequence[str],
    quantities: Sequence[int],
    prices: Sequence[Money | None],
    variants: dict[str, CatalogVariant],
    prefix: str,
) -> tuple[Line, ...]:
    """Snapshot the catalog: archived SKUs are refused (naming each line),
    a charged price must be zero or more in the list price's currency, and
    every line of an order is in one currency."""
    archived = [
        PreconditionViolation("SKU_ARCHIVED", sku, f"{prefix}[{i}]: the variant is archived")
        for i, sku in enumerate(skus)
        if variants[sku].archived
    ]
    if archived:
        raise FailedPrecondition("archived SKUs cannot be sold", archived, reason="SKU_ARCHIVED")
    violations = Violations()
    lines = []
    for i, (sku, quantity, price) in enumerate(zip(skus, quantities, prices, strict=True)):
        variant = variants[sku]
        unit = price or variant.list_price
        if price is not None and (price.currency_code != variant.list_price.currency_code or price.negative):
            violations.add(
                f"{prefix}[{i}].unit_price",
                f"must be zero or more in {variant.list_price.currency_code}",
            )
        lines.append(Line(sku, quantity, variant.description, variant.list_price, unit))
    violations.raise_if_any()
    currencies = {line.unit_price.currency_code for line in lines}
    if len(currencies) > 1:
        raise FailedPrecondition(
            "the lines are priced in different currencies",
            [
                PreconditionViolation("MIXED_CURRENCIES", line.sku, line.unit_price.currency_code)
                for line in lines
            ],
            reason="MIXED_CURRENCIES",
        )
    return tuple(lines)
