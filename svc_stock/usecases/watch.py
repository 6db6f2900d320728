"""Live level changes, resumable from a cursor.

The ledger is the change feed: sequences are strictly increasing per tenant
in commit order, so "every movement after sequence N" is exactly what a
subscriber that saw N has missed, whenever it comes back (`tail`).

A stream is opened in two steps. `Watcher.open` checks the request, the
warehouse and the cursor, and reads the snapshot, raising before anything is
sent, so a refusal is the call's status alone. Iterating what it returns
sends the snapshot, then every matching movement after the starting
sequence, a HEARTBEAT after `heartbeat_seconds` without a message, and ends
after `max_seconds` (the client resumes from its last cursor).

How a stream learns of new movements depends on the database:

- PostgreSQL: one hub per process (`feed.Feed`) listens on one connection
  for the notification each appending transaction sends on commit, reads the
  new movements once and hands each stream its matching ones through a
  bounded queue; a stream that falls behind reads the ledger itself from its
  cursor until it has caught up.
- SQLite (one process, no notifications): each stream reads the ledger
  itself every `poll_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kit import paging
from kit.db import Database
from kit.errors import FieldViolation, InvalidArgument
from kit.identity import Principal
from kit.uow import Units
from svc_stock import domain
from svc_stock.domain import Level, Movement
from svc_stock.ports import StockUnit
from svc_stock.usecases.feed import Feed
from svc_stock.usecases.tail import LevelChange, read_tail
from svc_stock.usecases.warehouses import existing_warehouses


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


class Source(Protocol):
    """Where a stream takes the changes after its cursor from."""

    after: int  # every matching movement up to this sequence has been handed out

    async def next(self, timeout: float) -> list[LevelChange]: ...

    def close(self) -> None: ...


class Polling:
    """A stream reading the ledger itself: every `poll` seconds, at once
    while a read comes back full."""

    def __init__(
        self, units: Units[StockUnit], tenant_id: str, query: WatchQuery, after: int, poll_seconds: float
    ) -> None:
        self.units = units
        self.tenant_id = tenant_id
        self.warehouse_id = query.warehouse_id
        self.skus = frozenset(query.skus)
        self.after = after
        self.poll = poll_seconds
        self._due = 0.0

    async def next(self, timeout: float) -> list[LevelChange]:
        deadline = time.monotonic() + timeout
        while True:
            wait = self._due - time.monotonic()
            if wait > 0:
                if time.monotonic() + wait > deadline:
                    await asyncio.sleep(max(deadline - time.monotonic(), 0.0))
                    return []
                await asyncio.sleep(wait)
            tail = await read_tail(
                self.units,
                self.tenant_id,
                self.after,
                warehouse_id=self.warehouse_id,
                skus=self.skus,
                reader="stream",
            )
            self.after = tail.last
            self._due = time.monotonic() + (0.0 if tail.full else self.poll)
            if tail.changes:
                return tail.changes

    def close(self) -> None:
        pass


class Watcher:
    def __init__(
        self,
        db: Database,
        units: Units[StockUnit],
        *,
        poll_seconds: float = 0.2,
        heartbeat_seconds: float = 15.0,
        max_seconds: float = 1800.0,
        queue_size: int = 1000,
    ) -> None:
        self.units = units
        self.now = units.now
        self.poll = poll_seconds
        self.heartbeat = heartbeat_seconds
        self.max_seconds = max_seconds
        self.feed = (
            Feed(
                db, units, queue_size=queue_size, recheck_seconds=heartbeat_seconds, poll_seconds=poll_seconds
            )
            if db.dialect == "postgresql"
            else None
        )

    async def open(self, who: Principal, query: WatchQuery) -> AsyncGenerator[Event, None]:
        """Check the request and read the starting point; the events to send
        from there. Raises (NOT_FOUND, INVALID_ARGUMENT, ...) before any."""
        if query.cursor and query.send_initial_levels:
            raise InvalidArgument([FieldViolation("send_initial_levels", "not together with a cursor")])
        if len(query.skus) > domain.MAX_LINES:
            raise InvalidArgument([FieldViolation("skus", "at most 500")])
        after = sequence_of(query.cursor)
        async with self.units.read() as uow:
            if query.warehouse_id is not None:
                await existing_warehouses(uow, who.tenant_id, [query.warehouse_id])
            if not query.cursor:
                after = await uow.ledger.last_sequence(who.tenant_id)
            snapshot = (
                await uow.levels.find(
                    who.tenant_id,
                    warehouse_id=query.warehouse_id,
                    skus=query.skus,
                    after=None,
                    limit=1_000_000,
                )
                if query.send_initial_levels
                else []
            )
        return self._events(who.tenant_id, query, snapshot, after)

    async def close(self) -> None:
        """Stop the hub, if it runs (service shutdown)."""
        if self.feed is not None:
            await self.feed.stop()

    async def _events(
        self, tenant_id: str, query: WatchQuery, snapshot: list[Level], after: int
    ) -> AsyncGenerator[Event, None]:
        for level in snapshot:
            yield Event(EventType.SNAPSHOT, cursor_of(after), level=level)
        if query.send_initial_levels:
            yield Event(EventType.SNAPSHOT_COMPLETE, cursor_of(after))
        source: Source
        if self.feed is not None:
            source = await self.feed.subscribe(tenant_id, query.warehouse_id, frozenset(query.skus), after)
        else:
            source = Polling(self.units, tenant_id, query, after, self.poll)
        try:
            started = last_sent = time.monotonic()
            while (left := self.max_seconds - (time.monotonic() - started)) > 0:
                quiet = self.heartbeat - (time.monotonic() - last_sent)
                for change in await source.next(min(quiet, left)):
                    yield Event(
                        EventType.CHANGE,
                        cursor_of(change.sequence),
                        level=change.level,
                        movement=change.movement,
                    )
                    last_sent = time.monotonic()
                if time.monotonic() - last_sent >= self.heartbeat:
                    yield Event(EventType.HEARTBEAT, cursor_of(source.after))
                    last_sent = time.monotonic()
        finally:
            source.close()
