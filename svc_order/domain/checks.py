"""The shape of a request's lines and fields: limits every order and sale
obeys, each check adding to the request's violations rather than raising."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from kit.errors import Violations

MAX_LINES = 500
MAX_SALES = 500
MAX_REFERENCE = 200  # external ids and customer references
MAX_SHIPMENT_FIELD = 100
MAX_ID = 36  # svc_stock's ids are UUIDs
DEFAULT_HOLD = timedelta(days=7)
MIN_HOLD = timedelta(minutes=1)
MAX_HOLD = timedelta(days=30)


def require(present: bool, field: str, violations: Violations) -> None:
    """A required field, unless it is named already: sent, but unreadable."""
    if not present and all(v.field != field for v in violations.items):
        violations.add(field, "required")


def check_lines(skus: Sequence[str], quantities: Sequence[int], prefix: str, violations: Violations) -> None:
    """1 to 500 lines, each SKU once, each quantity at least 1."""
    if not skus:
        violations.add(prefix, "at least one line is required")
    elif len(skus) > MAX_LINES:
        violations.add(prefix, f"at most {MAX_LINES} lines")
    seen: set[str] = set()
    for i, (sku, quantity) in enumerate(zip(skus, quantities, strict=True)):
        if not sku.strip():
            violations.add(f"{prefix}[{i}].sku", "required")
        elif sku in seen:
            violations.add(f"{prefix}[{i}].sku", "one line per SKU")
        seen.add(sku)
        if quantity < 1:
            violations.add(f"{prefix}[{i}].quantity", "must be at least 1")


def check_length(value: str, limit: int, field: str, violations: Violations) -> None:
    if len(value) > limit:
        violations.add(field, f"at most {limit} characters")


def check_hold(hold: timedelta | None, violations: Violations) -> timedelta:
    if hold is None:
        return DEFAULT_HOLD
    if not MIN_HOLD <= hold <= MAX_HOLD:
        violations.add("order.hold_duration", "must be between 1 minute and 30 days")
    return hold
