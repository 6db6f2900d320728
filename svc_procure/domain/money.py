"""Money is exact: an amount is integer nanos of the supplier's currency
(google.type.Money's units and nanos, joined), so totals are integer sums and
products, never floats."""

from __future__ import annotations

from collections.abc import Sequence

NANOS = 1_000_000_000


def line_total(quantity: int, unit_cost_nanos: int) -> int:
    """Exact: integer nanos."""
    return quantity * unit_cost_nanos


def order_total(lines: Sequence[tuple[int, int]]) -> int:
    """Sum of quantity * unit cost (nanos) over (quantity, unit_cost_nanos) lines."""
    return sum(line_total(q, c) for q, c in lines)


def to_nanos(units: int, nanos: int) -> int:
    return units * NANOS + nanos


def from_nanos(amount: int) -> tuple[int, int]:
    """(units, nanos) with the same sign, as google.type.Money requires."""
    units = abs(amount) // NANOS
    nanos = abs(amount) % NANOS
    sign = -1 if amount < 0 else 1
    return sign * units, sign * nanos
