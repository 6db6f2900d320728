"""Booking: apply planned changes to levels and write their movements, in the
caller's transaction. Every stock change of every use case goes through here.

Lock order, fixed for every writer so concurrent transactions cannot deadlock:
the idempotency claim, then reservation rows, then level rows sorted by
(warehouse_id, sku), then the tenant's ledger sequence row last.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from svc_stock import store
from svc_stock.domain import (
    Change,
    CountBelowReserved,
    InsufficientStock,
    Level,
    Movement,
    MovementType,
    Outcome,
    Provenance,
    empty_level,
)


async def book(
    conn: AsyncConnection, tenant_id: str, changes: Sequence[Change], who: Provenance, now: datetime
) -> Outcome:
    """Apply every change or none; raise naming every line that cannot be."""
    after: dict[int, tuple[int, Level]] = {}  # index -> (on_hand delta, level after)
    short: list[int] = []
    below: list[int] = []
    for i in sorted(range(len(changes)), key=lambda i: (changes[i].warehouse_id, changes[i].sku)):
        change = changes[i]
        if change.type is MovementType.CYCLE_COUNT:
            assert change.counted is not None
            counted = await store.count_level(
                conn, tenant_id, change.warehouse_id, change.sku, change.counted, now
            )
            if counted is None:
                below.append(i)
            else:
                after[i] = counted
        elif change.quantity_delta > 0 and change.reserved_delta == 0:
            level = await store.add_stock(
                conn, tenant_id, change.warehouse_id, change.sku, change.quantity_delta, now
            )
            after[i] = (change.quantity_delta, level)
        else:
            changed = await store.change_level(
                conn,
                tenant_id,
                change.warehouse_id,
                change.sku,
                on_hand_delta=change.quantity_delta,
                reserved_delta=change.reserved_delta,
                now=now,
            )
            if changed is None:
                short.append(i)
            else:
                after[i] = (change.quantity_delta, changed)
    if short or below:
        await _refuse(conn, tenant_id, changes, short, below)
    first = await store.next_sequences(conn, tenant_id, len(changes))
    written = [_movement(changes[i], first + i, *after[i], who, now) for i in range(len(changes))]
    await store.insert_movements(conn, tenant_id, written)
    levels = tuple(_with_sequence(after[i][1], movement.sequence) for i, movement in enumerate(written))
    return Outcome(tuple(written), levels)


async def _refuse(
    conn: AsyncConnection, tenant_id: str, changes: Sequence[Change], short: list[int], below: list[int]
) -> None:
    keys = [(changes[i].warehouse_id, changes[i].sku) for i in [*short, *below]]
    current = await store.levels_by_key(conn, tenant_id, keys)

    def level(i: int) -> Level:
        key = (changes[i].warehouse_id, changes[i].sku)
        return current.get(key) or empty_level(*key)

    if short:
        raise InsufficientStock(
            [(level(i), max(changes[i].reserved_delta, -changes[i].quantity_delta)) for i in sorted(short)]
        )
    raise CountBelowReserved([(level(i), changes[i].counted or 0) for i in sorted(below)])


def _movement(
    change: Change, sequence: int, delta: int, level: Level, who: Provenance, now: datetime
) -> Movement:
    return Movement(
        id=str(uuid.uuid4()),
        sequence=sequence,
        type=change.type,
        warehouse_id=change.warehouse_id,
        sku=change.sku,
        quantity_delta=delta,
        reserved_delta=change.reserved_delta,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        reason=change.reason,
        note=change.note,
        reference=change.reference,
        reservation_id=change.reservation_id,
        counterpart_warehouse_id=change.counterpart_warehouse_id,
        user_id=who.user_id,
        caller=who.caller,
        request_id=who.request_id,
        trace_id=who.trace_id,
        effective_at=change.effective_at or now,
        created_at=now,
    )


def _with_sequence(level: Level, sequence: int) -> Level:
    return replace(level, last_movement_sequence=sequence)
