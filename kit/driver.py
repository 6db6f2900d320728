"""PostgreSQL transactions on psycopg's own connections, for the one hot path
where SQLAlchemy's cost per statement shows (reservation batches).

These connections are a pool of their own (psycopg_pool, by psycopg's
authors: the engine's pool hands out SQLAlchemy's wrappers, and each
checkout and return through it switches greenlets). They stay in
autocommit, and their sessions are set once, as they open (kit.db: each
statement planned once, where the engine's plan every statement for its
parameters; no JIT).

A transaction's statements are prepared ones (`Statement`: SQL PREPARE, once
per connection, in a message of its own on first use), run by EXECUTE in the
simple query protocol, with their parameters bound by psycopg on the client
(`AsyncClientCursor`). So BEGIN travels with the first statement and COMMIT
with the last, in one message each: a batch of two statements is two
messages, two round trips and two writes to the socket. In pipeline mode,
psycopg wrote each of BEGIN, the statements, COMMIT, the Sync and its flush
requests to the socket as it was queued, seven writes a batch, each waking
the server on its own; a transaction of one statement took 220 µs of the
service's CPU that way, 80 µs now (docs/stock.md, Throughput step 13).
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg_pool import AsyncConnectionPool

# How long a block waits for a connection before the database counts as
# unreachable (psycopg_pool's PoolTimeout, an OperationalError: UNAVAILABLE).
CHECKOUT_SECONDS = 10.0

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Statement:
    """A statement the hot path prepares on each of its connections, written
    with psycopg's `%(name)s` placeholders; `types` gives each parameter's
    PostgreSQL type, in the order EXECUTE passes them."""

    name: str
    sql: str
    types: Mapping[str, str]
    prepare: str = field(init=False)
    execute: str = field(init=False)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"{self.name!r} is not a plain lower-case SQL name")
        used = set(_PLACEHOLDER.findall(self.sql))
        if used != set(self.types):
            raise ValueError(f"{self.name}: parameters {sorted(used)} but types for {sorted(self.types)}")
        number = {name: i for i, name in enumerate(self.types, 1)}
        body = _PLACEHOLDER.sub(lambda m: f"${number[m[1]]}", self.sql)
        signature = f" ({', '.join(self.types.values())})" if self.types else ""
        object.__setattr__(self, "prepare", f"PREPARE {self.name}{signature} AS {body}")
        # Bound on the client: a literal `%` of the body never reaches it.
        arguments = f" ({', '.join(f'%({name})s' for name in self.types)})" if self.types else ""
        object.__setattr__(self, "execute", f"EXECUTE {self.name}{arguments}")


class Transaction:
    """One transaction on one connection: BEGIN goes with its first
    statement; COMMIT with the statement run with `commit=True`, or alone
    when the block ends."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], session: _Session) -> None:
        self._conn = conn
        self._cursor = session.cursor
        self._prepared = session.prepared
        self._begun = False
        self.committed = False

    async def run(
        self, statement: Statement, params: Mapping[str, Any], *, commit: bool = False
    ) -> tuple[Any, ...] | None:
        """Run the statement; its first row, if it returns any."""
        if self.committed:
            raise RuntimeError("the transaction is committed")
        if statement.name not in self._prepared:
            # Once per connection, in a message of its own; PREPARE is not
            # undone by a rollback.
            await self._conn.execute(statement.prepare)
            self._prepared.add(statement.name)
        text = statement.execute
        if not self._begun:
            text = f"BEGIN; {text}"
        if commit:
            text = f"{text}; COMMIT"
        cursor = self._cursor
        await cursor.execute(text, params)
        self._begun = True
        self.committed = commit
        # BEGIN's result, then the statement's.
        while cursor.pgresult is None or cursor.pgresult.status != ExecStatus.TUPLES_OK:
            if not cursor.nextset():
                return None
        return await cursor.fetchone()


@dataclass(frozen=True)
class _Session:
    """What one connection keeps from one transaction to the next: its
    cursor (which caches how each type of parameter is written) and the
    names of the statements it prepared."""

    cursor: psycopg.AsyncClientCursor[Any]
    prepared: set[str] = field(default_factory=set)


class DriverPool:
    """psycopg connections in autocommit, opened on first use: a process
    that never takes the hot path never connects."""

    def __init__(self, conninfo: str, *, options: str, max_size: int) -> None:
        self._conninfo = conninfo
        # psycopg prepares nothing of its own here (prepare_threshold None):
        # on a ROLLBACK it would deallocate every prepared statement of the
        # session, ours included.
        self._kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": 5,
            "options": options,
            "prepare_threshold": None,
        }
        self._max_size = max_size
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()
        self._sessions: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], _Session] = (
            weakref.WeakKeyDictionary()
        )

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
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Committed when the block ends without error (if no statement
        committed it already); `psycopg.Rollback` raised in the block rolls
        it back quietly; any other error leaves the block with the
        transaction rolled back. psycopg's errors reach the caller as they
        are (kit.db translates them)."""
        pool = self._pool or await self._opened()
        async with pool.connection() as raw:
            session = self._sessions.get(raw)
            if session is None:
                session = self._sessions[raw] = _Session(psycopg.AsyncClientCursor(raw))
            transaction = Transaction(raw, session)
            try:
                try:
                    yield transaction
                except psycopg.Rollback:
                    return
                if raw.info.transaction_status == TransactionStatus.INTRANS:
                    await raw.execute("COMMIT")
            finally:
                # What an error or a Rollback left open is rolled back here,
                # not by the pool as the connection goes back: one place.
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
