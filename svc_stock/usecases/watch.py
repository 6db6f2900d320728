"""Live level changes, resumable from a cursor.

The ledger is the change feed: sequences are strictly increasing per tenant
in commit order, so "every movement after sequence N" is exactly what a
subscriber that saw N has missed, whenever it comes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kit import paging
from kit.db import Database
from kit.errors import FieldViolation, InvalidArgument
from kit.identity import Principal
from svc_stock import domain, store
from svc_stock.domain import Level, Movement
from svc_stock.usecases.stock import existing_warehouses

BATCH = 500


class EventType(StrEnum):
    SNAPSHOT = "snapshot"
    SNAPSHOT_COMPLETE = "snapshot_complete"
    CHANGE = "change"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True)
class Event:
    type: EventType
    cursor: str
    level: Level | None = None
    movement: Movement | None = None


@dataclass(frozen=True)
class WatchQuery:
    warehouse_id: str | None
    skus: tuple[str, ...]
    cursor: str
    send_initial_levels: bool


def cursor_of(sequence: int) -> str:
    return paging.encode({"after": sequence})


def sequence_of(cursor: str) -> int:
    value = paging.decode(cursor, "cursor").get("after") if cursor else 0
    if not isinstance(value, int) or value < 0:
        raise InvalidArgument([FieldViolation("cursor", "not a cursor from this stream")])
    return value


class Watcher:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        poll_seconds: float = 0.2,
        heartbeat_seconds: float = 15.0,
        max_seconds: float = 1800.0,
    ) -> None:
        self.db = db
        self.now = clock
        self.poll = poll_seconds
        self.heartbeat = heartbeat_seconds
        self.max_seconds = max_seconds

    async def watch(self, who: Principal, query: WatchQuery) -> AsyncIterator[Event]:
        if query.cursor and query.send_initial_levels:
            raise InvalidArgument([FieldViolation("send_initial_levels", "not together with a cursor")])
        if len(query.skus) > domain.MAX_LINES:
            raise InvalidArgument([FieldViolation("skus", "at most 500")])
        after = sequence_of(query.cursor)
        async with self.db.snapshot(repeatable=True) as conn:
            if query.warehouse_id is not None:
                await existing_warehouses(conn, who.tenant_id, [query.warehouse_id])
            if not query.cursor:
                after = await store.last_sequence(conn, who.tenant_id)
            snapshot = (
                await store.list_levels(
                    conn,
                    who.tenant_id,
                    warehouse_id=query.warehouse_id,
                    skus=query.skus,
                    after=None,
                    limit=1_000_000,
                )
                if query.send_initial_levels
                else []
            )
        for level in snapshot:
            yield Event(EventType.SNAPSHOT, cursor_of(after), level=level)
        if query.send_initial_levels:
            yield Event(EventType.SNAPSHOT_COMPLETE, cursor_of(after))
        async for event in self._follow(who.tenant_id, query, after):
            yield event

    async def _follow(self, tenant_id: str, query: WatchQuery, after: int) -> AsyncIterator[Event]:
        started = last_sent = time.monotonic()
        while time.monotonic() - started < self.max_seconds:
            async with self.db.snapshot() as conn:
                found = await store.list_movements(
                    conn,
                    tenant_id,
                    warehouse_id=query.warehouse_id,
                    after_sequence=after,
                    limit=BATCH,
                )
                wanted = [m for m in found if not query.skus or m.sku in query.skus]
                current = await store.levels_by_key(
                    conn, tenant_id, [(m.warehouse_id, m.sku) for m in wanted]
                )
            for movement in wanted:
                level = _as_of(current[(movement.warehouse_id, movement.sku)], movement)
                yield Event(EventType.CHANGE, cursor_of(movement.sequence), level=level, movement=movement)
                last_sent = time.monotonic()
            if found:
                after = found[-1].sequence
            if len(found) == BATCH:
                continue
            if time.monotonic() - last_sent >= self.heartbeat:
                yield Event(EventType.HEARTBEAT, cursor_of(after))
                last_sent = time.monotonic()
            await asyncio.sleep(self.poll)


def _as_of(level: Level, movement: Movement) -> Level:
    """The level right after `movement`: its quantities come from the ledger."""
    return replace(
        level,
        on_hand=movement.on_hand_after,
        reserved=movement.reserved_after,
        last_movement_sequence=movement.sequence,
    )
