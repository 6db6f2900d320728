"""Specifications of reservations granted in batches: the allocation rule in
svc_stock's domain, and the statements that write a batch."""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg import _queries

from svc_stock import feed_store, store
from svc_stock.domain import Level, Line, grant_in_order

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
A = ("w-1", "A")
B = ("w-1", "B")


def level(key: tuple[str, str], on_hand: int, reserved: int = 0, version: int = 7) -> Level:
    return Level(key[0], key[1], on_hand, reserved, 0, 0, None, version)


def line(key: tuple[str, str], quantity: int) -> Line:
    return Line(key[0], key[1], quantity)


def test_reservations_are_granted_in_arrival_order_while_stock_lasts() -> None:
    grants, after = grant_in_order({A: level(A, 5)}, [[line(A, 2)], [line(A, 2)], [line(A, 2)]], NOW)

    assert [g.index for g in grants] == [0, 1]
    assert [g.levels[0].reserved for g in grants] == [2, 4]
    assert [g.levels[0].version for g in grants] == [8, 9]
    assert after[A].reserved == 4


def test_a_reservation_that_cannot_be_granted_whole_takes_nothing_and_later_ones_still_may() -> None:
    levels = {A: level(A, 3), B: level(B, 1)}
    grants, after = grant_in_order(levels, [[line(A, 2), line(B, 5)], [line(A, 3)], [line(B, 1)]], NOW)

    assert [g.index for g in grants] == [1, 2]
    assert after[A].reserved == 3
    assert after[B].reserved == 1


def test_a_line_without_a_level_is_never_granted() -> None:
    grants, after = grant_in_order({A: level(A, 10)}, [[line(A, 1), line(B, 1)]], NOW)

    assert grants == []
    assert after == {A: level(A, 10)}


def test_grants_are_numbered_in_the_order_of_their_movements() -> None:
    requests = [[line(A, 1), line(B, 1)], [line(A, 1)]]
    levels = {A: level(A, 10), B: level(B, 10)}

    numbered, _ = grant_in_order(levels, requests, NOW, first_sequence=41)
    later = [g.numbered(41) for g in grant_in_order(levels, requests, NOW)[0]]

    assert [[lv.last_movement_sequence for lv in g.levels] for g in numbered] == [[41, 42], [43]]
    assert later == numbered


def test_the_batch_statements_are_short_enough_for_psycopg_to_cache_their_parsing() -> None:
    # Longer statements are parsed again on every execution, for every batch.
    for statement in (store._RESERVE_WHOLE_SQL, store._CLAIM_AND_LOCK_SQL, store._WRITE_RESERVATIONS_SQL):
        assert len(statement.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH


def test_the_batch_statements_that_append_movements_announce_them_in_their_own_transaction() -> None:
    # Live streams on PostgreSQL are woken by this notification, not by polling.
    for statement in (store._RESERVE_WHOLE_SQL, store._WRITE_RESERVATIONS_SQL):
        assert feed_store.NOTIFY_SQL in statement
    assert feed_store.NOTIFY_SQL not in store._CLAIM_AND_LOCK_SQL
