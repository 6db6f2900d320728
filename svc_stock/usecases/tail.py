"""Reading the ledger after a sequence: what every live stream sends.

The ledger is the change feed: sequences are strictly increasing per tenant
in commit order, so "every movement after sequence N" is exactly what a
reader that saw N has missed. Both the per-process hub (`feed`) and a
stream reading on its own (SQLite's polling, a subscriber catching up) read
it here, in the same way, so they send the same thing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from prometheus_client import Counter

from kit.uow import Units
from svc_stock.domain import Level, Movement
from svc_stock.ports import MovementQuery, StockUnit

BATCH = 500

ledger_reads = Counter(
    "stockmesh_watch_ledger_reads_total",
    "Reads of the ledger for live streams: by the shared hub, or by one stream on its own"
    " (polling, catching up).",
    ("reader",),
)


@dataclass(frozen=True)
class LevelChange:
    """A movement and the level right after it."""

    movement: Movement
    level: Level

    @property
    def sequence(self) -> int:
        return self.movement.sequence


@dataclass(frozen=True)
class Tail:
    changes: list[LevelChange]  # the matching ones, in sequence order
    last: int  # the sequence read up to (matching or not); `after` if nothing was read
    full: bool  # the read stopped at its limit: more may follow at once


def matches(movement: Movement, warehouse_id: str | None, skus: Collection[str]) -> bool:
    return (warehouse_id is None or movement.warehouse_id == warehouse_id) and (
        not skus or movement.sku in skus
    )


async def read_tail(
    units: Units[StockUnit],
    tenant_id: str,
    after: int,
    *,
    warehouse_id: str | None = None,
    skus: Collection[str] = (),
    reader: str,
) -> Tail:
    """Up to BATCH movements after `after` (of one warehouse, if given),
    those of `skus` (all if empty) with their levels."""
    ledger_reads.labels(reader).inc()
    async with units.read() as uow:
        found = await uow.ledger.find(
            tenant_id, MovementQuery(warehouse_id=warehouse_id, after_sequence=after, limit=BATCH)
        )
        wanted = [m for m in found if matches(m, warehouse_id, skus)]
        current = await uow.levels.by_key(tenant_id, [(m.warehouse_id, m.sku) for m in wanted])
    changes = [LevelChange(m, level_after(current[(m.warehouse_id, m.sku)], m)) for m in wanted]
    return Tail(changes, found[-1].sequence if found else after, len(found) == BATCH)


def level_after(level: Level, movement: Movement) -> Level:
    """The level right after `movement`: its quantities come from the ledger."""
    return replace(
        level,
        on_hand=movement.on_hand_after,
        reserved=movement.reserved_after,
        last_movement_sequence=movement.sequence,
    )
