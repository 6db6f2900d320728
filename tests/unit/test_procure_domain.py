"""Worked examples of the replenishment formula, and the purchase order state machine."""

from __future__ import annotations

import pytest

from kit.errors import FailedPrecondition
from svc_procure.domain.money import from_nanos, order_total, to_nanos
from svc_procure.domain.orders import (
    ItemTerms,
    Line,
    PurchaseOrderState,
    check_lines,
    receipt_request_id,
    receive,
    transition,
)
from svc_procure.domain.replenishment import Position, ProposalStatus, Sizing, propose
from svc_procure.domain.suppliers import matches

S = PurchaseOrderState


def position(**kw: int) -> Position:
    base = {"available": 3, "reorder_point": 5, "reorder_quantity": 0, "on_order": 0, "draft": 0}
    base |= {"shipped": 56, "returned": 0}
    return Position(**(base | kw))


def test_worked_example_from_the_contract() -> None:
    # demand 56 in 28 d = 2/d; target 5 + ceil(2 * (7 + 14)) = 47; need 44; MOQ 50 -> 50; pack 12 -> 60
    got = propose(position(), Sizing(lead_time_days=7, minimum_order_quantity=50, pack_size=12), 28, 14)
    assert (got.status, got.inventory_position, got.demand, got.daily_demand) == (
        ProposalStatus.PROPOSED,
        3,
        56,
        2.0,
    )
    assert (got.target_position, got.raw_quantity, got.suggested_quantity) == (47, 44, 60)


def test_returns_reduce_demand_and_the_ceiling_is_exact() -> None:
    # demand 30 - 2 = 28 in 28 d = 1/d; target 5 + ceil(1 * 21) = 26; need 23; pack 1
    got = propose(position(shipped=30, returned=2), Sizing(7, 1, 1), 28, 14)
    assert (got.demand, got.target_position, got.suggested_quantity) == (28, 26, 23)
    # 10 in 28 d over 21 d = 7.5 -> 8: target 13, need 10
    got = propose(position(shipped=10), Sizing(7, 1, 1), 28, 14)
    assert (got.target_position, got.suggested_quantity) == (13, 10)


def test_reorder_quantity_is_a_floor() -> None:
    got = propose(position(shipped=0, reorder_quantity=20), Sizing(7, 1, 5), 28, 14)
    assert (got.target_position, got.raw_quantity, got.suggested_quantity) == (5, 20, 20)


def test_on_order_and_drafts_are_never_proposed_again() -> None:
    covered = propose(position(on_order=40), Sizing(7, 50, 12), 28, 14)
    assert (covered.status, covered.suggested_quantity, covered.inventory_position) == (
        ProposalStatus.COVERED,
        0,
        43,
    )
    # on order 2 + draft 0: position 5 = reorder point, still low; the 2 coming are subtracted
    got = propose(position(on_order=2), Sizing(7, 1, 1), 28, 14)
    assert (got.status, got.suggested_quantity) == (ProposalStatus.PROPOSED, 42)


def test_no_supplier_uses_lead_time_zero_without_rounding() -> None:
    # target 5 + ceil(2 * 14) = 33; need 30
    got = propose(position(), None, 28, 14)
    assert (got.status, got.target_position, got.suggested_quantity) == (ProposalStatus.NO_SUPPLIER, 33, 30)


def test_state_machine() -> None:
    assert transition(S.DRAFT, S.SUBMITTED) is S.SUBMITTED
    assert transition(S.SUBMITTED, S.CANCELLED) is S.CANCELLED
    assert transition(S.PARTIALLY_RECEIVED, S.CLOSED) is S.CLOSED
    for current, target in [
        (S.PARTIALLY_RECEIVED, S.CANCELLED),
        (S.RECEIVED, S.CANCELLED),
        (S.DRAFT, S.RECEIVED),
    ]:
        with pytest.raises(FailedPrecondition) as caught:
            transition(current, target)
        assert caught.value.reason == "INVALID_STATE_TRANSITION"


def test_partial_receipts_then_received() -> None:
    lines = [Line("A", 10, 0), Line("B", 5, 0)]
    state, got = receive(S.SUBMITTED, lines, {"A": 4})
    assert (state, got) == (S.PARTIALLY_RECEIVED, {"A": 4, "B": 0})
    state, got = receive(state, [Line("A", 10, 4), Line("B", 5, 0)], {"A": 6, "B": 5})
    assert (state, got) == (S.RECEIVED, {"A": 10, "B": 5})


def test_over_receipt_names_every_line_and_draft_is_not_open() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        receive(S.PARTIALLY_RECEIVED, [Line("A", 10, 8), Line("B", 5, 0)], {"A": 5, "B": 6})
    assert caught.value.reason == "OVER_RECEIPT"
    assert [(v.subject, v.description) for v in caught.value.violations] == [
        ("A", "ordered 10, received 8, receiving 5"),
        ("B", "ordered 5, received 0, receiving 6"),
    ]
    with pytest.raises(FailedPrecondition) as not_open:
        receive(S.DRAFT, [Line("A", 10, 0)], {"A": 1})
    assert not_open.value.reason == "PURCHASE_ORDER_NOT_OPEN"


def test_line_rules() -> None:
    terms = {"A": ItemTerms(10, 5)}
    check_lines([("A", 15)], terms)
    with pytest.raises(FailedPrecondition) as caught:
        check_lines([("A", 5), ("B", 1), ("A", 12)], terms)
    assert [v.type for v in caught.value.violations] == [
        "BELOW_MINIMUM_ORDER_QUANTITY",
        "NO_SUPPLIER_ITEM",
        "NOT_PACK_MULTIPLE",
    ]


def test_money_is_exact() -> None:
    cost = to_nanos(0, 100_000_000)  # 0.10
    assert from_nanos(order_total([(3, cost), (7, cost)])) == (1, 0)
    assert from_nanos(-to_nanos(1, 500_000_000)) == (-1, -500_000_000)
    assert receipt_request_id("r1") == "receipt:r1"


def test_free_text_matches_word_prefixes() -> None:
    assert matches("ada lov", "Acme", "Ada Lovelace", "ada@acme.example")
    assert matches("", "anything")
    assert not matches("love ada x", "Acme", "Ada Lovelace", "")
