"""The store side of the live stream on PostgreSQL: the channel every append
to the ledger is announced on, and the one connection that listens to it.

Every transaction that appends movements calls `stock_announce` inside that
same transaction (`store.next_sequences` on the general path, the batch
statements on the reservation hot path), which calls `pg_notify` when a hub
watches the tenant (`stock_ledger_watchers`, migration 0003). A notifying
commit is serialized with every other notifying commit of the server, so
nobody pays for announcements nobody listens to. PostgreSQL delivers a notification
only when its transaction commits, after the movements are visible, and
drops it on rollback: a listener is never woken for movements it cannot read
yet, nor for movements that were never written. A notification sent after
the commit instead, as a statement of its own, would be lost whenever the
process stopped in between.

The payload is the tenant id. Identical notifications of one transaction are
delivered once, so a transaction that books several times wakes listeners
once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import func, text
from sqlalchemy.sql.elements import ColumnElement

from kit import errors
from kit.db import Database

CHANNEL = "stock_ledger"
# The same call, as text, for the batch statements (psycopg parameters).
NOTIFY_SQL = "stock_announce(%(tenant_id)s)"
# How the listening session shows in pg_stat_activity.
APPLICATION_NAME = "stockmesh-stock-feed"
_PING_SECONDS = 5.0


def notify(tenant_id: str) -> ColumnElement[Any]:
    """The tenant's announcement, to select in the appending transaction."""
    return func.stock_announce(tenant_id)


async def watch(db: Database, watcher: str, tenant_ids: Sequence[str], seconds: float) -> None:
    """Register (or refresh) `watcher`'s interest in these tenants' appends
    for the next `seconds`; also forgets registrations long expired, of any
    process (one that stopped without saying so)."""
    if not tenant_ids:
        return
    async with db.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO stock_ledger_watchers (tenant_id, watcher, expires_at)"
                " SELECT t, :watcher, now() + make_interval(secs => CAST(:seconds AS float8))"
                " FROM unnest(CAST(:tenants AS text[])) AS t"
                " ON CONFLICT (tenant_id, watcher) DO UPDATE SET expires_at = excluded.expires_at"
            ),
            {"watcher": watcher, "tenants": list(tenant_ids), "seconds": seconds},
        )
        await conn.execute(
            text("DELETE FROM stock_ledger_watchers WHERE expires_at < now() - interval '1 hour'")
        )


async def unwatch(db: Database, watcher: str, tenant_ids: Sequence[str] | None = None) -> None:
    """Forget `watcher`'s registrations: these tenants, or all of them."""
    async with db.transaction() as conn:
        if tenant_ids is None:
            await conn.execute(text("DELETE FROM stock_ledger_watchers WHERE watcher = :w"), {"w": watcher})
        elif tenant_ids:
            await conn.execute(
                text(
                    "DELETE FROM stock_ledger_watchers"
                    " WHERE watcher = :w AND tenant_id = ANY(CAST(:t AS text[]))"
                ),
                {"w": watcher, "t": list(tenant_ids)},
            )


class ListenerLost(Exception):
    """The listening connection failed or could not be opened."""


class Listener:
    """One connection of its own, in autocommit, LISTENing on the channel.

    One per process whatever the number of subscribers: a LISTEN session is a
    backend of its own, and the notifications it receives are fanned out in
    memory. It runs no query but LISTEN, so the session's last query in
    pg_stat_activity names what it is for."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def open(self) -> None:
        await self.close()
        try:
            self._conn = await self.db.dedicated_connection(APPLICATION_NAME)
            await self._conn.execute(f"LISTEN {CHANNEL}")
        except (errors.Unavailable, psycopg.Error, OSError) as exc:
            raise ListenerLost(str(exc)) from exc

    async def wait(self, timeout: float) -> set[str]:
        """The tenants announced, as soon as one is (with any that came in
        the same packet); empty after `timeout` seconds without any."""
        conn = self._open_connection()
        tenants: set[str] = set()
        try:
            async for notification in conn.notifies(timeout=timeout, stop_after=1):
                tenants.add(notification.payload)
        except (psycopg.Error, OSError) as exc:
            raise ListenerLost(str(exc)) from exc
        return tenants

    async def ping(self) -> None:
        """Prove the session alive: a connection that died without the
        server saying so (a network partition) would otherwise wait quietly
        forever. LISTEN again is a no-op that keeps the session's last query."""
        conn = self._open_connection()
        try:
            async with asyncio.timeout(_PING_SECONDS):
                await conn.execute(f"LISTEN {CHANNEL}")
        except (psycopg.Error, OSError, TimeoutError) as exc:
            raise ListenerLost(str(exc) or "no answer") from exc

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            # Already broken, if it fails: nothing is left to release.
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()

    def _open_connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            raise ListenerLost("not listening")
        return self._conn
