"""Units of work on real databases: a claim replays across units and
processes' transactions, concurrent duplicates take effect once, and a
deadlock victim is run again until both sides have taken effect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import db, errors, idempotency
from kit.db import Database
from kit.idempotency import Key
from kit.sql import SqlUnitOfWork
from kit.uow import Units
from tests import harness

metadata = db.metadata()
counters = Table(
    "counters",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("value", Integer, nullable=False),
)
records = idempotency.table(metadata)


class Counters:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, name: str, amount: int = 1) -> int:
        result = await self.conn.execute(
            update(counters)
            .where(counters.c.name == name)
            .values(value=counters.c.value + amount)
            .returning(counters.c.value)
        )
        return int(result.scalar_one())

    async def value(self, name: str) -> int:
        return int(
            (await self.conn.execute(select(counters.c.value).where(counters.c.name == name))).scalar_one()
        )


class CounterUnit(SqlUnitOfWork):
    counters: Counters

    def bind(self, conn: AsyncConnection) -> None:
        self.counters = Counters(conn)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'units.db'}"
    else:
        with harness.postgres_database() as found:
            yield found


@asynccontextmanager
async def counting(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    async with database.transaction() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(counters.insert(), [{"name": "a", "value": 0}, {"name": "b", "value": 0}])
    yield database
    await database.dispose()


@pytest.fixture
async def database(url: str) -> AsyncIterator[Database]:
    async with counting(url) as database:
        yield database


@pytest.fixture
async def pg_database() -> AsyncIterator[Database]:
    with harness.postgres_database() as url:
        async with counting(url) as database:
            yield database


def units_of(database: Database) -> Units[CounterUnit]:
    def opener(*, read_only: bool) -> CounterUnit:
        return CounterUnit(database, records, read_only=read_only)

    return Units(opener, lambda: datetime.now(UTC))


async def value(units: Units[CounterUnit], name: str) -> int:
    async with units.read() as uow:
        return await uow.counters.value(name)


async def test_a_repeated_request_id_replays_the_first_result_and_changes_nothing(database: Database) -> None:
    units = units_of(database)
    key = Key("tenant", "req-1", "Add")

    async def add(uow: CounterUnit) -> int:
        return await uow.counters.add("a")

    assert await units.once(key, {"n": 1}, int)(add) == 1
    assert await units.once(key, {"n": 1}, int)(add) == 1
    assert await value(units, "a") == 1


async def test_reads_and_pings_keep_the_statements_prepared_on_their_connection(
    pg_database: Database,
) -> None:
    # psycopg prepares a statement on its sixth run on a connection, and drops
    # all it prepared there on any ROLLBACK; reads and pings end with COMMIT,
    # and the pool hands out the connection returned last.
    units = units_of(pg_database)
    for _ in range(8):
        assert await value(units, "a") == 0
        assert await pg_database.ping()

    async with units.read() as uow:
        prepared = await uow.conn.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM counters%'")
        )
        assert prepared.scalar_one() == 1


async def test_a_unit_left_without_commit_keeps_nothing_not_even_its_claim(database: Database) -> None:
    units = units_of(database)
    async with units.write() as uow:
        await uow.counters.add("a")
        assert (
            await uow.claims.claim(
                Key("t", "req-1", "Add"), "digest", datetime.now(UTC), idempotency.DEFAULT_RETENTION
            )
            is None
        )
    assert await value(units, "a") == 0
    assert await units.once(Key("t", "req-1", "Add"), {}, int)(lambda uow: uow.counters.add("a")) == 1


async def test_an_error_inside_a_unit_leaves_it_rolled_back(database: Database) -> None:
    units = units_of(database)

    async def half(uow: CounterUnit) -> None:
        await uow.counters.add("a")
        raise errors.FailedPrecondition("refused after writing")

    with pytest.raises(errors.FailedPrecondition):
        await units.run(half)
    assert await value(units, "a") == 0


@pytest.mark.postgres
async def test_concurrent_duplicates_on_postgresql_take_effect_once(pg_database: Database) -> None:
    units = units_of(pg_database)

    async def add(uow: CounterUnit) -> int:
        found = await uow.counters.add("a")
        await asyncio.sleep(0.05)  # hold the claim while the duplicates arrive
        return found

    results = await asyncio.gather(*(units.once(Key("t", "req-1", "Add"), {}, int)(add) for _ in range(12)))
    assert results == [1] * 12
    assert await value(units, "a") == 1


@pytest.mark.postgres
async def test_a_deadlock_victim_is_run_again_and_both_sides_take_effect(pg_database: Database) -> None:
    units = units_of(pg_database)
    both_hold_their_first = asyncio.Barrier(2)
    attempts = {"ab": 0, "ba": 0}

    def crossing(first: str, second: str) -> Callable[[CounterUnit], Awaitable[None]]:
        async def work(uow: CounterUnit) -> None:
            attempts[first + second] += 1
            await uow.counters.add(first)
            if attempts[first + second] == 1:
                await both_hold_their_first.wait()
            await uow.counters.add(second)

        return work

    await asyncio.gather(units.run(crossing("a", "b")), units.run(crossing("b", "a")))
    assert await value(units, "a") == 2
    assert await value(units, "b") == 2
    assert sum(attempts.values()) == 3, "exactly one side was aborted and run again"


async def test_a_forgotten_claim_lets_the_request_take_effect_again(database: Database) -> None:
    units = units_of(database)
    key = Key("t", "req-1", "Add")

    async def add(uow: CounterUnit) -> int:
        return await uow.counters.add("a")

    await units.once(key, {}, int)(add)

    async def undo(uow: CounterUnit) -> None:
        await uow.counters.add("a", -1)
        await uow.claims.forget(key)

    await units.run(undo)
    assert await units.once(key, {}, int).earlier() is None
    assert await units.once(key, {}, int)(add) == 1


async def test_a_unit_on_an_unreachable_database_is_unavailable() -> None:
    database = Database(f"postgresql://root@127.0.0.1:{harness.free_port()}/nowhere")
    try:
        with pytest.raises(errors.Unavailable) as refused:
            async with units_of(database).read():
                pass
        assert refused.value.reason == "DATABASE_UNAVAILABLE"
    finally:
        await database.dispose()
