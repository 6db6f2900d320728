"""Specifications of svc_order's rules: exact money, line checks, the price
snapshot, states as seen over time, and returns."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from kit.errors import FailedPrecondition, InvalidArgument, Violations
from kit.identity import Principal, Role
from svc_order import domain
from svc_order.domain import CatalogVariant, Money, OrderStatus, SalesChannel

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WHO = Principal("u-1", "t-1", frozenset({Role.CLERK}), "tok")


def variant(sku: str, price: Money, *, archived: bool = False) -> CatalogVariant:
    return CatalogVariant(sku, f"Shoe, {sku}", price, archived)


def order(lines: list[tuple[str, int, Money]]) -> domain.Order:
    priced = tuple(domain.Line(s, q, s, p, p) for s, q, p in lines)
    return domain.new_order(
        "o-1", WHO, SalesChannel.POS, "", "", "w-1", priced, "", NOW, NOW + timedelta(days=1)
    )


def test_money_sums_exactly_in_nanos() -> None:
    dime = Money("EUR", 0, 100_000_000)
    assert dime.times(3) == Money("EUR", 0, 300_000_000)
    assert Money("EUR", 19, 990_000_000).times(3) == Money("EUR", 59, 970_000_000)
    assert Money.of_nanos("EUR", -1_500_000_000) == Money("EUR", -1, -500_000_000)
    o = order([("A", 3, dime), ("B", 1, Money("EUR", 5, 0))])
    assert o.total == Money("EUR", 5, 300_000_000)


def test_lines_need_a_sku_once_and_a_positive_quantity() -> None:
    violations = Violations()
    domain.check_lines(["A", "A", ""], [1, 0, 1], "order.lines", violations)
    assert [v.field for v in violations.items] == [
        "order.lines[1].sku",
        "order.lines[1].quantity",
        "order.lines[2].sku",
    ]
    empty = Violations()
    domain.check_lines([], [], "order.lines", empty)
    assert [v.field for v in empty.items] == ["order.lines"]


def test_hold_defaults_to_seven_days_and_is_bounded() -> None:
    violations = Violations()
    assert domain.check_hold(None, violations) == timedelta(days=7)
    domain.check_hold(timedelta(seconds=30), violations)
    domain.check_hold(timedelta(days=31), violations)
    assert [v.field for v in violations.items] == ["order.hold_duration"] * 2


def test_prices_snapshot_the_list_price_unless_charged_otherwise() -> None:
    variants = {"A": variant("A", Money("EUR", 5, 0)), "B": variant("B", Money("EUR", 2, 0))}
    lines = domain.price_lines(["A", "B"], [1, 2], [None, Money("EUR", 1, 0)], variants, "order.lines")
    assert [(line.list_price.units, line.unit_price.units, line.total.units) for line in lines] == [
        (5, 5, 5),
        (2, 1, 2),
    ]


def test_archived_skus_mixed_currencies_and_bad_prices_are_refused() -> None:
    variants = {
        "A": variant("A", Money("EUR", 5, 0)),
        "B": variant("B", Money("USD", 5, 0)),
        "C": variant("C", Money("EUR", 5, 0), archived=True),
    }
    with pytest.raises(FailedPrecondition) as archived:
        domain.price_lines(["A", "C"], [1, 1], [None, None], variants, "order.lines")
    assert (archived.value.reason, [v.subject for v in archived.value.violations]) == ("SKU_ARCHIVED", ["C"])
    with pytest.raises(FailedPrecondition) as mixed:
        domain.price_lines(["A", "B"], [1, 1], [None, None], variants, "order.lines")
    assert mixed.value.reason == "MIXED_CURRENCIES"
    with pytest.raises(InvalidArgument) as bad:
        domain.price_lines(["A"], [1], [Money("USD", 1, 0)], variants, "order.lines")
    assert [v.field for v in bad.value.violations] == ["order.lines[0].unit_price"]


def test_a_lapsed_hold_reads_expired_and_refuses_shipping() -> None:
    o = order([("A", 1, Money("EUR", 1, 0))])
    assert o.status_at(NOW) is OrderStatus.RESERVED
    later = NOW + timedelta(days=2)
    assert o.as_seen(later).status is OrderStatus.EXPIRED
    with pytest.raises(FailedPrecondition) as expired:
        domain.require_status(o, later, (OrderStatus.RESERVED,), "ship")
    assert expired.value.reason == "ORDER_EXPIRED"
    with pytest.raises(FailedPrecondition) as invalid:
        domain.require_status(o, NOW, domain.RETURNABLE, "return")
    assert invalid.value.reason == "INVALID_STATE_TRANSITION"


def test_returns_move_to_partially_then_fully_returned_and_never_over() -> None:
    shipped = domain.shipped(
        order([("A", 3, Money("EUR", 2, 0)), ("B", 1, Money("EUR", 1, 0))]),
        domain.Shipment("", "", NOW),
        NOW,
    )
    lines, total, status = domain.returned(shipped, [("A", 2)])
    assert (total, status) == (Money("EUR", 4, 0), OrderStatus.PARTIALLY_RETURNED)
    partly = dataclasses.replace(shipped, lines=lines, status=status)
    with pytest.raises(FailedPrecondition) as over:
        domain.returned(partly, [("A", 2)])
    assert over.value.reason == "OVER_RETURN"
    assert over.value.violations[0].description == "shipped 3, returned 2, returning 2"
    _, _, done = domain.returned(partly, [("A", 1), ("B", 1)])
    assert done is OrderStatus.RETURNED
