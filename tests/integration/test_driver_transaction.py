"""`Database.driver_transaction`, the reservation hot path's transaction on a
psycopg connection of its own pool (kit.driver), in pipeline mode, on real
PostgreSQL: what the block writes is committed when it ends, nothing when it
rolls back or fails, and the connection comes back clean either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from kit import driver, errors
from kit.db import HOT_PATH_SETTINGS, PLAN_CACHE_MODE, Database
from tests import harness


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    with harness.postgres_database() as url:
        # One connection in each pool: every block below reuses the one before's.
        database = Database(url, pool_size=1)
        async with database.driver_transaction() as conn:
            await conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
        yield database
        await database.dispose()


async def _notes(database: Database) -> list[tuple[int, str]]:
    async with database.driver_transaction() as conn:
        cursor = await conn.execute("SELECT id, body FROM notes ORDER BY id")
        return await cursor.fetchall()


async def test_what_the_block_writes_is_committed_when_it_ends(database: Database) -> None:
    async with database.driver_transaction() as conn:
        cursor = await conn.execute("INSERT INTO notes VALUES (1, 'read back') RETURNING body")
        assert await cursor.fetchone() == ("read back",)
        # Written after the last read: it goes with the COMMIT.
        await conn.execute("INSERT INTO notes VALUES (2, 'queued')")

    assert await _notes(database) == [(1, "read back"), (2, "queued")]


async def test_a_rollback_raised_in_the_block_keeps_nothing_and_raises_nothing(database: Database) -> None:
    async with database.driver_transaction() as conn:
        cursor = await conn.execute("INSERT INTO notes VALUES (1, 'dropped') RETURNING id")
        assert await cursor.fetchone() == (1,)
        raise psycopg.Rollback()

    assert await _notes(database) == []


async def test_an_error_in_the_block_keeps_nothing_and_the_connection_serves_the_next_block(
    database: Database,
) -> None:
    async def failing_decision() -> None:
        async with database.driver_transaction() as conn:
            cursor = await conn.execute("INSERT INTO notes VALUES (1, 'dropped') RETURNING id")
            assert await cursor.fetchone() == (1,)
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        await failing_decision()

    async with database.driver_transaction() as conn:
        await conn.execute("INSERT INTO notes VALUES (2, 'kept')")

    assert await _notes(database) == [(2, "kept")]


async def test_a_failed_statement_keeps_nothing_of_the_block(database: Database) -> None:
    async with database.driver_transaction() as conn:
        await conn.execute("INSERT INTO notes VALUES (1, 'first')")

    async def duplicate() -> None:
        async with database.driver_transaction() as conn:
            await conn.execute("INSERT INTO notes VALUES (2, 'second')")
            await conn.execute("INSERT INTO notes VALUES (1, 'duplicate')")

    with pytest.raises(psycopg.errors.UniqueViolation):
        await duplicate()

    assert await _notes(database) == [(1, "first")]
    # No session of the database was left inside a transaction.
    async with database.transaction() as conn:
        open_transactions = await conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
        )
        assert open_transactions.scalar_one() == 0


async def test_the_hot_path_settings_hold_on_its_own_connections_only(database: Database) -> None:
    async with database.driver_transaction() as conn:
        inside = {name: await _show(conn, name) for name in HOT_PATH_SETTINGS}
    async with database.transaction() as conn:
        outside = (await conn.exec_driver_sql("SHOW plan_cache_mode")).scalar_one()

    assert inside == {"plan_cache_mode": "force_generic_plan", "jit": "off"}
    assert outside == PLAN_CACHE_MODE


async def _show(conn: psycopg.AsyncConnection[Any], name: str) -> str:
    row = await (await conn.execute(f"SHOW {name}")).fetchone()
    assert row is not None
    return str(row[0])


async def test_the_hot_path_on_an_unreachable_database_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(driver, "CHECKOUT_SECONDS", 1.0)
    database = Database(f"postgresql://root@127.0.0.1:{harness.free_port()}/nowhere")
    try:
        for _ in range(2):  # and again: a pool that could not open is not kept
            with pytest.raises(errors.Unavailable) as refused:
                async with database.driver_transaction():
                    pass
            assert refused.value.reason == "DATABASE_UNAVAILABLE"
    finally:
        await database.dispose()
