"""PostgreSQL transactions on psycopg's own connections, for the one hot path
where SQLAlchemy's cost per statement shows (reservation batches).

These connections are a pool of their own (psycopg_pool, by psycopg's
authors: the engine's pool hands out SQLAlchemy's wrappers, and each
checkout and return through it switches greenlets). They stay in
autocommit, and their sessions are set once, as they open (kit.db: each
statement planned once, where the engine's plan every statement for its
parameters; no JIT), so a transaction is just BEGIN, the block's
statements and COMMIT in one pipeline, nothing set on the way in and reset
on the way out. In process that took a reservation batch's CPU from about
0.31 to 0.26 ms per reservation (docs/stock.md, step 11).

One pipeline, and BEGIN and COMMIT sent as statements: out of autocommit
psycopg sends its own BEGIN with a Sync of its own, inside a pipeline its
transaction block is two more nested pipelines (each exit a Sync and a
round trip), and `commit()` syncs too. A block of two statements, the
second after a read, takes two round trips: BEGIN with the statements up to
the first read, then the rest with COMMIT and the pipeline's closing Sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

# How long a block waits for a connection before the database counts as
# unreachable (psycopg_pool's PoolTimeout, an OperationalError: UNAVAILABLE).
CHECKOUT_SECONDS = 10.0


class DriverPool:
    """psycopg connections in autocommit, opened on first use: a process
    that never takes the hot path never connects."""

    def __init__(self, conninfo: str, *, options: str, max_size: int) -> None:
        self._conninfo = conninfo
        self._kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": 5, "options": options}
        self._max_size = max_size
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()

    async def _opened(self) -> AsyncConnectionPool:
        async with self._opening:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    self._conninfo,
                    kwargs=self._kwargs,
                    min_size=1,
                    max_size=self._max_size,
                    timeout=CHECKOUT_SECONDS,
                    name="driver",
                    open=False,
                )
                # Waits for its first connection: a checkout that found none
                # ready would make the pool open a second, and it hands its
                # connections out in turn, each preparing statements anew.
                try:
                    await pool.open(wait=True, timeout=CHECKOUT_SECONDS)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
            return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Committed when the block ends without error; `psycopg.Rollback`
        raised in the block rolls it back quietly; any other error leaves the
        block with the transaction rolled back. psycopg's errors reach the
        caller as they are (kit.db translates them)."""
        pool = self._pool or await self._opened()
        async with pool.connection() as raw:
            try:
                async with raw.pipeline():
                    await raw.execute("BEGIN")
                    try:
                        yield raw
                    except psycopg.Rollback:
                        await raw.execute("ROLLBACK")
                        return
                    # A statement, queued, not `raw.commit()` (a Sync of its
                    # own): it goes with the pipeline's closing Sync.
                    await raw.execute("COMMIT")
            finally:
                # What an error left open is rolled back here, not by the
                # pool as the connection goes back: one place, the same way.
                if (
                    not raw.closed
                    and not raw.broken
                    and raw.info.transaction_status != TransactionStatus.IDLE
                ):
                    await raw.execute("ROLLBACK")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
