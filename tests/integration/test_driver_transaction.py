"""`Database.driver_transaction`, the reservation hot path's transaction of
prepared statements on a psycopg connection of its own pool (kit.driver), on
real PostgreSQL: what the block writes is committed when it ends (or with
the statement that commits it), nothing when it rolls back or fails, the
connection comes back clean either way, and each connection prepares a
statement once, for good."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from kit import driver, errors
from kit.db import HOT_PATH_SETTINGS, PLAN_CACHE_MODE, Database
from kit.driver import Statement
from tests import harness
from tests.support.hot_path_plans import plans_of

INSERT = Statement(
    "insert_note",
    "INSERT INTO notes VALUES (%(id)s, %(body)s) RETURNING body",
    {"id": "integer", "body": "text"},
)
NOTES = Statement(
    "all_notes",
    "SELECT coalesce(json_agg(json_build_array(id, body) ORDER BY id), '[]') FROM notes",
    {},
)
SETTING = Statement("setting", "SELECT current_setting(%(name)s)", {"name": "text"})


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    with harness.postgres_database() as url:
        # One connection in each pool: every block below reuses the one before's.
        database = Database(url, pool_size=1)
        async with database.transaction() as conn:
            await conn.execute(text("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)"))
        yield database
        await database.dispose()


async def _notes(database: Database) -> list[list[Any]]:
    async with database.driver_transaction() as transaction:
        row = await transaction.run(NOTES, {})
    assert row is not None
    return list(row[0])


async def test_what_the_block_writes_is_committed_when_it_ends(database: Database) -> None:
    async with database.driver_transaction() as transaction:
        assert await transaction.run(INSERT, {"id": 1, "body": "read back"}) == ("read back",)
        await transaction.run(INSERT, {"id": 2, "body": "committed at the end"})

    assert await _notes(database) == [[1, "read back"], [2, "committed at the end"]]


async def test_a_statement_run_with_commit_commits_the_block_with_it(database: Database) -> None:
    async with database.driver_transaction() as transaction:
        await transaction.run(INSERT, {"id": 1, "body": "first"})
        assert await transaction.run(INSERT, {"id": 2, "body": "with the commit"}, commit=True) == (
            "with the commit",
        )
        with pytest.raises(RuntimeError):
            await transaction.run(INSERT, {"id": 3, "body": "too late"})

    assert await _notes(database) == [[1, "first"], [2, "with the commit"]]


async def test_a_rollback_raised_in_the_block_keeps_nothing_and_raises_nothing(database: Database) -> None:
    async with database.driver_transaction() as transaction:
        assert await transaction.run(INSERT, {"id": 1, "body": "dropped"}) == ("dropped",)
        raise psycopg.Rollback()

    assert await _notes(database) == []


async def test_an_error_in_the_block_keeps_nothing_and_the_connection_serves_the_next_block(
    database: Database,
) -> None:
    async def failing_decision() -> None:
        async with database.driver_transaction() as transaction:
            assert await transaction.run(INSERT, {"id": 1, "body": "dropped"}) == ("dropped",)
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        await failing_decision()

    async with database.driver_transaction() as transaction:
        await transaction.run(INSERT, {"id": 2, "body": "kept"})

    assert await _notes(database) == [[2, "kept"]]


async def test_a_failed_statement_keeps_nothing_of_the_block(database: Database) -> None:
    async with database.driver_transaction() as transaction:
        await transaction.run(INSERT, {"id": 1, "body": "first"})

    async def duplicate() -> None:
        async with database.driver_transaction() as transaction:
            await transaction.run(INSERT, {"id": 2, "body": "second"})
            await transaction.run(INSERT, {"id": 1, "body": "duplicate"}, commit=True)

    with pytest.raises(psycopg.errors.UniqueViolation):
        await duplicate()

    assert await _notes(database) == [[1, "first"]]
    # No session of the database was left inside a transaction.
    async with database.transaction() as conn:
        open_transactions = await conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
        )
        assert open_transactions.scalar_one() == 0


async def test_input_travels_as_literals_that_cannot_change_the_statement(database: Database) -> None:
    body = "it's '); DROP TABLE notes; -- \\ % %(id)s $1"
    async with database.driver_transaction() as transaction:
        assert await transaction.run(INSERT, {"id": 1, "body": body}) == (body,)

    assert await _notes(database) == [[1, body]]


async def test_a_statement_is_prepared_once_per_connection_and_survives_rollbacks(
    database: Database,
) -> None:
    for run in range(6):
        async with database.driver_transaction() as transaction:
            await transaction.run(INSERT, {"id": run, "body": "rolled back"})
            raise psycopg.Rollback()

    # One generic plan, made on the first run, used by all six.
    assert await plans_of(database, INSERT) == (6, 0)


def test_a_statement_names_a_type_for_every_parameter_it_uses() -> None:
    with pytest.raises(ValueError, match="parameters"):
        Statement("partial", "SELECT %(a)s, %(b)s", {"a": "text"})
    with pytest.raises(ValueError, match="name"):
        Statement("Not A Name", "SELECT 1", {})

    statement = Statement("pair", "SELECT %(b)s, %(a)s, %(b)s", {"a": "text", "b": "integer"})

    assert statement.prepare == "PREPARE pair (text, integer) AS SELECT $2, $1, $2"
    assert statement.execute == "EXECUTE pair (%(a)s, %(b)s)"


async def test_the_hot_path_settings_hold_on_its_own_connections_only(database: Database) -> None:
    async with database.driver_transaction() as transaction:
        inside = {name: await _setting(transaction, name) for name in HOT_PATH_SETTINGS}
    async with database.transaction() as conn:
        outside = (await conn.exec_driver_sql("SHOW plan_cache_mode")).scalar_one()

    assert inside == {"plan_cache_mode": "force_generic_plan", "jit": "off", "TimeZone": "UTC"}
    assert outside == PLAN_CACHE_MODE


async def _setting(transaction: driver.Transaction, name: str) -> str:
    row = await transaction.run(SETTING, {"name": name})
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
