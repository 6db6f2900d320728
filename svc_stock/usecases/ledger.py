"""Booking: apply planned changes to levels and append their movements, in
the caller's unit of work. Every stock change but a reservation goes through
here (reservations are decided in batches: `granting`).

Lock order, fixed for every writer so concurrent transactions cannot deadlock:
the idempotency claim, then reservation rows, then level rows sorted by
(warehouse_id, sku), then the tenant's ledger sequence row last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from svc_stock.domain import (
    Change,
    CountBelowReserved,
    InsufficientStock,
    Level,
    MovementType,
    Outcome,
    Provenance,
    empty_level,
    movement_of,
)
from svc_stock.ports import StockUnit


async def book(
    uow: StockUnit, tenant_id: str, changes: Sequence[Change], who: Provenance, now: datetime
) -> Outcome:
    """Apply every change or none; raise naming every line that cannot be."""
    after: dict[int, tuple[int, Level]] = {}  # index -> (on_hand delta, level after)
    short: list[int] = []
    below: list[int] = []
    for i in sorted(range(len(changes)), key=lambda i: (changes[i].warehouse_id, changes[i].sku)):
        change = changes[i]
        key = (change.warehouse_id, change.sku)
        if change.type is MovementType.CYCLE_COUNT:
            assert change.counted is not None
            counted = await uow.levels.count(tenant_id, key, change.counted, now)
            if counted is None:
                below.append(i)
            else:
                after[i] = counted
        elif change.quantity_delta > 0 and change.reserved_delta == 0:
            after[i] = (
                change.quantity_delta,
                await uow.levels.add_stock(tenant_id, key, change.quantity_delta, now),
            )
        else:
            changed = await uow.levels.change(
                tenant_id,
                key,
                on_hand_delta=change.quantity_delta,
                reserved_delta=change.reserved_delta,
                now=now,
            )
            if changed is None:
                short.append(i)
            else:
                after[i] = (change.quantity_delta, changed)
    if short or below:
        await _refuse(uow, tenant_id, changes, short, below)
    first = await uow.ledger.next_sequences(tenant_id, len(changes))
    written = [
        movement_of(replace(changes[i], quantity_delta=after[i][0]), first + i, after[i][1], who, now)
        for i in range(len(changes))
    ]
    await uow.ledger.append(tenant_id, written)
    levels = tuple(replace(after[i][1], last_movement_sequence=m.sequence) for i, m in enumerate(written))
    return Outcome(tuple(written), levels)


async def _refuse(
    uow: StockUnit, tenant_id: str, changes: Sequence[Change], short: list[int], below: list[int]
) -> None:
    keys = [(changes[i].warehouse_id, changes[i].sku) for i in [*short, *below]]
    current = await uow.levels.by_key(tenant_id, keys)

    def level(i: int) -> Level:
        key = (changes[i].warehouse_id, changes[i].sku)
        return current.get(key) or empty_level(*key)

    if short:
        raise InsufficientStock(
            [(level(i), max(changes[i].reserved_delta, -changes[i].quantity_delta)) for i in sorted(short)]
        )
    raise CountBelowReserved([(level(i), changes[i].counted or 0) for i in sorted(below)])
