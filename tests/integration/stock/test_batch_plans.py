"""The reservation batch statements keep small plans whatever the statistics
said when PostgreSQL cached them (svc_stock/store/pg_batches.py).

On the hot path a connection plans each statement once, on its first run
(a generic plan), and on a new database that plan is made on empty tables.
Here each statement's generic plan is made on empty tables, then run on
20,000 reservations with their lines and claims and 20,000 levels, with no
ANALYZE in between (autovacuum off): it still reads a few dozen pages, and
it finds and ends the lapsed holds it must. Planned that way, the statements
as they were read the tenant's whole history: some 12,000 pages a batch.
Planned instead on an analyzed history of 150,000 running holds, the plans
stay as small, and cheap enough by PostgreSQL's own estimate never to be
compiled (JIT) where the server leaves it on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from kit import migrations
from kit.driver import Statement
from svc_stock.store.pg_batches import CLAIM_AND_LOCK_SQL, WRITE_SQL
from tests import harness

TENANT, WAREHOUSE, HOT = "tenant-a", "w1", "HOT-1"
HISTORY = 20_000
TABLES = ("reservations", "reservation_lines", "idempotency_records", "stock_levels", "movements")
# Pages a batch may read: on empty tables the statements read 15-35.
FEW_PAGES = 150

SEED = f"""
INSERT INTO warehouses
VALUES ('{TENANT}', '{WAREHOUSE}', 'W1', 'W1', '{{}}', 'active', now(), now(), NULL, 1);
INSERT INTO stock_levels
SELECT '{TENANT}', '{WAREHOUSE}', CASE WHEN g = 0 THEN '{HOT}' ELSE 'SKU-' || g END,
    1000000, 0, 0, 0, NULL, now(), 1
FROM generate_series(0, {HISTORY}) AS g;
INSERT INTO reservations
SELECT '{TENANT}', 'done-' || g, 'orders/1', 'committed', now() - interval '1 hour', now(), now(), now(), 2
FROM generate_series(1, {HISTORY}) AS g;
INSERT INTO reservation_lines SELECT '{TENANT}', 'done-' || g, 0, '{WAREHOUSE}', '{HOT}', 1
FROM generate_series(1, {HISTORY}) AS g;
INSERT INTO idempotency_records
SELECT '{TENANT}', 'request-' || g, 'CreateReservation', 'f', NULL, now(), now() + interval '1 day'
FROM generate_series(1, {HISTORY}) AS g
"""

LAPSED = f"""
INSERT INTO reservations
SELECT '{TENANT}', 'lapsed-' || g, 'orders/2', 'active', now() - interval '1 minute', now(), now(), NULL, 1
FROM generate_series(1, 3) AS g;
INSERT INTO reservation_lines SELECT '{TENANT}', 'lapsed-' || g, 0, '{WAREHOUSE}', '{HOT}', 1
FROM generate_series(1, 3) AS g
"""
LAPSED_IDS = ["lapsed-1", "lapsed-2", "lapsed-3"]

# Holds still running, each with its line: what a store holds at a busy hour.
ACTIVE = 150_000
HOLDING = f"""
INSERT INTO reservations
SELECT '{TENANT}', 'holding-' || g, 'orders/4', 'active', now() + interval '1 hour', now(), now(), NULL, 1
FROM generate_series(1, {ACTIVE}) AS g;
INSERT INTO reservation_lines SELECT '{TENANT}', 'holding-' || g, 0, '{WAREHOUSE}', 'SKU-' || g % 100, 1
FROM generate_series(1, {ACTIVE}) AS g
"""
# PostgreSQL's default: a plan estimated dearer is compiled on every run.
JIT_ABOVE_COST = 100_000


CLAIM, WRITE = CLAIM_AND_LOCK_SQL, WRITE_SQL


def pages(node: dict[str, Any]) -> int:
    """Shared pages the plan node and everything under it touched."""
    own = int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))
    return max(own, sum(pages(child) for child in node.get("Plans", [])))


class Session:
    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self.now = datetime.now(UTC)

    async def sql(self, script: str) -> None:
        for statement in script.strip().split(";\n"):
            await self.conn.execute(statement)

    async def explain(self, statement: Statement, params: dict[str, Any]) -> int:
        """Run the prepared statement once, in a transaction left open for
        the caller to look into: the pages it touched."""
        await self.conn.execute("BEGIN")
        row = await self._execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement.execute}", params)
        return pages(row[0][0]["Plan"])

    async def cost(self, statement: Statement, params: dict[str, Any]) -> float:
        """The cached plan's total cost, as PostgreSQL estimates it."""
        row = await self._execute(f"EXPLAIN (FORMAT JSON) {statement.execute}", params)
        return float(row[0][0]["Plan"]["Total Cost"])

    async def execute(self, statement: Statement, params: dict[str, Any]) -> tuple[Any, ...]:
        """Run the prepared statement once, in a transaction left open: its row."""
        await self.conn.execute("BEGIN")
        return await self._execute(statement.execute, params)

    async def claim(self) -> list[Any]:
        """Run the claim statement for a new request id: what it found (its
        one JSON array), in a transaction left open."""
        (found,) = await self.execute(CLAIM, self.claim_params())
        decoded: list[Any] = json.loads(found)
        return decoded

    async def one(self, query: str) -> Any:
        return await self._execute(query, None)

    async def _execute(self, query: str, params: dict[str, Any] | None) -> tuple[Any, ...]:
        cursor = await self.conn.execute(query, params)
        row = await cursor.fetchone()
        assert row is not None
        return tuple(row)

    async def rollback(self) -> None:
        await self.conn.execute("ROLLBACK")

    def claim_params(self) -> dict[str, Any]:
        claim = {
            "scope": TENANT,
            "request_id": str(uuid.uuid4()),
            "operation": "CreateReservation",
            "fingerprint": "f",
            "result": None,
            "created_at": self.now.isoformat(),
            "expires_at": (self.now + timedelta(days=1)).isoformat(),
        }
        keys = [{"warehouse_id": WAREHOUSE, "sku": HOT}]
        return {"tenant_id": TENANT, "now": self.now, "claims": json.dumps([claim]), "keys": json.dumps(keys)}

    def write_params(self, ended: Sequence[str], dropped: Sequence[str]) -> dict[str, Any]:
        at = self.now.isoformat()
        granted = str(uuid.uuid4())

        def reservation(id_: str, state: str, version: int) -> dict[str, Any]:
            ended_at = None if state == "active" else at
            return {
                "tenant_id": TENANT,
                "id": id_,
                "reference": "orders/3",
                "state": state,
                "expire_at": at,
                "created_at": at,
                "updated_at": at,
                "ended_at": ended_at,
                "version": version,
            }

        line = {
            "tenant_id": TENANT,
            "reservation_id": granted,
            "line_no": 0,
            "warehouse_id": WAREHOUSE,
            "sku": HOT,
            "quantity": 1,
        }
        level = {
            "tenant_id": TENANT,
            "warehouse_id": WAREHOUSE,
            "sku": HOT,
            "on_hand": 1000000,
            "reserved": 1,
            "reorder_point": 0,
            "reorder_quantity": 0,
            "last_count_at": None,
            "updated_at": at,
            "version": 2,
        }
        movement = {
            "tenant_id": TENANT,
            "id": str(uuid.uuid4()),
            "sequence": 0,
            "type": "reserve",
            "warehouse_id": WAREHOUSE,
            "sku": HOT,
            "quantity_delta": 0,
            "reserved_delta": 1,
            "on_hand_after": 1000000,
            "reserved_after": 1,
            "reason": "",
            "note": "",
            "reference": "orders/3",
            "reservation_id": granted,
            "counterpart_warehouse_id": "",
            "user_id": "user-1",
            "caller": "caller",
            "request_id": "request",
            "trace_id": "",
            "effective_at": at,
            "created_at": at,
        }
        return {
            "tenant_id": TENANT,
            "now": self.now,
            "count": 1,
            "dropped": json.dumps(list(dropped)),
            "ended": json.dumps([reservation(id_, "expired", 2) for id_ in ended]),
            "reservations": json.dumps([reservation(granted, "active", 1)]),
            "lines": json.dumps([line]),
            "levels": json.dumps([level]),
            "movements": json.dumps([movement]),
        }


@asynccontextmanager
async def prepared_session(*, before: str = "", after: str = "") -> AsyncIterator[Session]:
    """Both statements prepared, and their generic plans made, once the
    database holds `before` (and is analyzed, if it holds anything); then
    `after` is written."""
    harness.require_postgres()
    with harness.postgres_database() as url:
        migrations.upgrade("stock", url)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        async with await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, cursor_factory=psycopg.AsyncClientCursor
        ) as conn:
            for table in TABLES:
                await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            session = Session(conn)
            if before:
                await session.sql(before)
                await conn.execute("ANALYZE")
            for statement in (CLAIM, WRITE):
                await conn.execute(statement.prepare)
            await session.explain(CLAIM, session.claim_params())
            await session.rollback()
            await session.explain(WRITE, session.write_params([], []))
            await session.rollback()
            if after:
                await session.sql(after)
            yield session


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    """Plans made on empty tables, then a long history written."""
    async with prepared_session(after=SEED) as each:
        yield each


@pytest.fixture
async def analyzed() -> AsyncIterator[Session]:
    """Plans made on an analyzed long history with many holds running."""
    async with prepared_session(before=SEED + ";\n" + HOLDING) as each:
        yield each


async def test_a_batch_reads_a_few_pages_after_a_long_history_planned_on_empty_tables(
    session: Session,
) -> None:
    claimed = await session.explain(CLAIM, session.claim_params())
    await session.rollback()
    written = await session.explain(WRITE, session.write_params([], ["request-5"]))
    await session.rollback()

    assert claimed < FEW_PAGES
    assert written < FEW_PAGES


async def test_lapsed_holds_among_a_long_history_are_found_and_ended_by_plans_made_on_empty_tables(
    session: Session,
) -> None:
    await session.sql(LAPSED)

    claimed = await session.explain(CLAIM, session.claim_params())
    await session.rollback()
    _, holds, lines, levels, warehouses = await session.claim()
    await session.rollback()
    written = await session.explain(WRITE, session.write_params(LAPSED_IDS, ["request-5", "request-77"]))
    states = await session.one(
        "SELECT array_agg(state ORDER BY id) FROM reservations WHERE id LIKE 'lapsed-%'"
    )
    claims = await session.one(
        "SELECT count(*) FROM idempotency_records WHERE request_id IN ('request-5', 'request-77')"
    )
    reserved = await session.one(f"SELECT reserved FROM stock_levels WHERE sku = '{HOT}'")
    await session.rollback()

    assert claimed < FEW_PAGES
    assert written < FEW_PAGES
    assert sorted(hold["id"] for hold in holds) == LAPSED_IDS
    assert sorted(line["reservation_id"] for line in lines) == LAPSED_IDS
    assert [(level["sku"], level["reserved"]) for level in levels] == [(HOT, 0)]
    assert [warehouse[0] for warehouse in warehouses] == [WAREHOUSE]
    assert states == (["expired"] * 3,)
    assert claims == (0,)
    assert reserved == (1,)


async def test_plans_made_on_an_analyzed_history_of_running_holds_stay_small_and_uncompiled(
    analyzed: Session,
) -> None:
    await analyzed.sql(LAPSED)

    claim_cost = await analyzed.cost(CLAIM, analyzed.claim_params())
    write_cost = await analyzed.cost(WRITE, analyzed.write_params(LAPSED_IDS, []))
    claimed = await analyzed.explain(CLAIM, analyzed.claim_params())
    await analyzed.rollback()
    _, holds, *_ = await analyzed.claim()
    await analyzed.rollback()
    written = await analyzed.explain(WRITE, analyzed.write_params(LAPSED_IDS, []))
    states = await analyzed.one(
        "SELECT array_agg(state ORDER BY id) FROM reservations WHERE id LIKE 'lapsed-%'"
    )
    await analyzed.rollback()

    assert claim_cost < JIT_ABOVE_COST
    assert write_cost < JIT_ABOVE_COST
    assert claimed < FEW_PAGES
    assert written < FEW_PAGES
    assert sorted(hold["id"] for hold in holds) == LAPSED_IDS
    assert states == (["expired"] * 3,)
