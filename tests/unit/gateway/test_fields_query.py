"""Setting request fields from the query string: every key with all its values in
order, either spelling of a name, all or nothing, and never a field the path or
the body sets, nor two members of one oneof."""

from __future__ import annotations

import pytest

from gateway.fields import FieldError, apply_query
from stockmesh.stock.v1 import stock_pb2
from tests.support.fields import Kinds


def test_the_query_sets_each_key_with_all_of_its_values_in_order() -> None:
    message = stock_pb2.WatchStockLevelsRequest()
    items = [("skus", "b"), ("cursor", "c1"), ("skus", "a"), ("sendInitialLevels", "true")]

    apply_query(message, items, bound={("parent",)})

    assert list(message.skus) == ["b", "a"]
    assert (message.cursor, message.send_initial_levels, message.parent) == ("c1", True, "")


def test_the_query_sets_every_kind_of_field_of_a_real_request() -> None:
    message = stock_pb2.ListMovementsRequest()
    items = [
        ("pageSize", "20"),
        ("types", "MOVEMENT_TYPE_RECEIPT"),
        ("start_time", "2025-01-31T12:00:00Z"),
        ("types", "MOVEMENT_TYPE_ADJUSTMENT"),
        ("afterSequence", "9007199254740993"),
        ("newestFirst", "true"),
    ]

    apply_query(message, items, bound=set())

    assert message.page_size == 20
    assert list(message.types) == [stock_pb2.MOVEMENT_TYPE_RECEIPT, stock_pb2.MOVEMENT_TYPE_ADJUSTMENT]
    assert message.start_time.seconds == 1738324800
    assert message.after_sequence == 9007199254740993
    assert message.newest_first is True


def test_both_spellings_of_a_repeated_field_add_up() -> None:
    message = Kinds()
    apply_query(message, [("luckyNumbers", "1"), ("lucky_numbers", "2"), ("luckyNumbers", "3")], bound=set())

    assert list(message.lucky_numbers) == [1, 2, 3]


def test_both_spellings_of_a_singular_field_are_one_field_given_twice() -> None:
    with pytest.raises(FieldError) as refused:
        apply_query(stock_pb2.ListMovementsRequest(), [("pageSize", "1"), ("page_size", "2")], bound=set())

    assert (refused.value.field, refused.value.description) == ("pageSize", "given more than once")


def test_an_unknown_key_is_refused_by_name_and_nothing_is_set() -> None:
    message = stock_pb2.ListMovementsRequest()

    with pytest.raises(FieldError) as refused:
        apply_query(message, [("pageSize", "5"), ("pageSise", "5")], bound=set())

    assert (refused.value.field, refused.value.description) == ("pageSise", "no such field")
    assert message.page_size == 0


def test_a_refused_value_names_the_key_as_the_client_wrote_it() -> None:
    with pytest.raises(FieldError) as refused:
        apply_query(stock_pb2.ListMovementsRequest(), [("pageSize", "abc")], bound=set())

    assert refused.value.field == "pageSize"
    assert refused.value.description == "expected an integer from -2147483648 to 2147483647, got 'abc'"


@pytest.mark.parametrize(
    ("key", "bound"),
    [
        ("parent", {("parent",)}),
        ("warehouse.displayName", {("warehouse",)}),
        ("warehouse", {("warehouse", "name")}),
        ("requestId", {()}),
    ],
    ids=[
        "the-bound-field",
        "inside-a-bound-message",
        "containing-a-bound-field",
        "with-the-whole-body-bound",
    ],
)
def test_a_field_the_path_or_body_sets_is_refused_from_the_query(
    key: str, bound: set[tuple[str, ...]]
) -> None:
    message = stock_pb2.UpdateWarehouseRequest() if key != "parent" else stock_pb2.WatchStockLevelsRequest()

    with pytest.raises(FieldError) as refused:
        apply_query(message, [(key, "x")], bound=bound)

    assert (refused.value.field, refused.value.description) == (
        key,
        "set by the path or the body, not the query",
    )


def test_a_sibling_of_a_bound_field_may_come_from_the_query() -> None:
    message = stock_pb2.UpdateWarehouseRequest()

    apply_query(message, [("warehouse.etag", "e1")], bound={("warehouse", "name")})

    assert message.warehouse.etag == "e1"


def test_two_members_of_one_oneof_are_refused() -> None:
    message = stock_pb2.ExtendReservationRequest()
    items = [("ttl", "60s"), ("expireTime", "2025-01-31T12:00:00Z")]

    with pytest.raises(FieldError) as refused:
        apply_query(message, items, bound=set())

    assert refused.value.field == "expireTime"
    assert refused.value.description == "expiration is already set by ttl; give only one of them"


def test_an_empty_query_sets_nothing() -> None:
    message = stock_pb2.ListMovementsRequest()
    apply_query(message, [], bound={()})

    assert message == stock_pb2.ListMovementsRequest()
