"""Prepared statements never fall back to a generic plan (kit.db.PLAN_CACHE_MODE).

psycopg prepares a statement on the server after its fifth execution, and
PostgreSQL may then plan it once for every parameter value. Demand for a
few SKUs, planned that way, once took 3 s instead of 11 ms. Here the
statements that read the ledger by SKU run well past both thresholds on a
ledger of realistic shape, on the connection settings every service uses,
and the server's own counters show each execution planned for its values;
the reservation hot path alone (kit.db.HOT_PATH_SETTINGS) plans its fixed
batch statements once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from kit import migrations
from kit.db import Database
from kit.driver import Statement
from svc_stock.store.ledger import SqlLedger
from svc_stock.store.levels import SqlLevels
from tests import harness
from tests.support.hot_path_plans import plans_of

TENANT = "tenant-a"
WAREHOUSE = "w1"
SKUS = 2000
RUNS = 12  # past psycopg's prepare_threshold (5) and PostgreSQL's five custom plans

COUNT_LEVELS = Statement(
    "count_levels",
    "SELECT count(*) FROM stock_levels WHERE tenant_id = %(tenant)s AND warehouse_id = %(warehouse)s",
    {"tenant": "text", "warehouse": "text"},
)

SEED = """
INSERT INTO warehouses VALUES (:tenant, :warehouse, 'W1', 'W1', '{}', 'active', now(), now(), NULL, 1);
INSERT INTO stock_levels
SELECT :tenant, :warehouse, 'SKU-' || lpad(g::text, 6, '0'), 100, 0, 10, 20, NULL, now(), 10
FROM generate_series(1, :skus) AS g;
INSERT INTO movements
SELECT :tenant, md5(g::text || '-' || k::text), (g - 1) * 10 + k,
    CASE WHEN k <= 2 THEN 'receipt' WHEN k <= 8 THEN 'shipment' ELSE 'return' END,
    :warehouse, 'SKU-' || lpad(g::text, 6, '0'),
    CASE WHEN k <= 2 THEN 100 WHEN k <= 8 THEN -10 ELSE 5 END, 0, 0, 0,
    NULL, '', '', '', '', 'u', 'c', 'r', '',
    now() - make_interval(days => k * 6, mins => g % 1000), now()
FROM generate_series(1, :skus) AS g, generate_series(1, 10) AS k;
ANALYZE movements;
ANALYZE stock_levels;
"""


@pytest.fixture
async def ledger_db() -> AsyncIterator[Database]:
    harness.require_postgres()
    with harness.postgres_database() as url:
        migrations.upgrade("stock", url)
        # One connection, so every run reuses the statement it prepared.
        db = Database(url, pool_size=1)
        async with db.transaction() as conn:
            for statement in SEED.strip().split(";\n"):
                await conn.execute(text(statement), {"tenant": TENANT, "warehouse": WAREHOUSE, "skus": SKUS})
        yield db
        await db.dispose()


async def _plans(db: Database, fragment: str) -> tuple[int, int]:
    async with db.transaction() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE :fragment"
                ),
                {"fragment": f"%{fragment}%"},
            )
        ).one()
    return int(row.generic_plans), int(row.custom_plans)


async def test_demand_for_chosen_skus_is_planned_for_its_skus_every_time(ledger_db: Database) -> None:
    end = datetime.now(UTC)
    for run in range(RUNS):
        skus = [f"SKU-{(run * 37 + i * 13) % SKUS + 1:06d}" for i in range(20)]
        async with ledger_db.transaction() as conn:
            found = await SqlLedger(conn).demand(TENANT, WAREHOUSE, end - timedelta(days=28), end, skus)
        assert found
        assert set(found) <= set(skus)

    generic, custom = await _plans(ledger_db, "FILTER (WHERE movements.type")

    assert (generic, custom) == (0, RUNS - 5)  # the first five ran unprepared


async def test_a_page_of_levels_is_planned_for_its_cursor_every_time(ledger_db: Database) -> None:
    for run in range(RUNS):
        after = (WAREHOUSE, f"SKU-{run * 150:06d}")
        async with ledger_db.transaction() as conn:
            page = await SqlLevels(conn).find(
                TENANT, warehouse_id=WAREHOUSE, skus=(), after=after, limit=51, low_only=False
            )
        assert [level.sku for level in page] == [f"SKU-{run * 150 + i:06d}" for i in range(1, 52)]

    generic, custom = await _plans(ledger_db, "FROM stock_levels")

    assert (generic, custom) == (0, RUNS - 5)


async def test_the_reservation_hot_path_plans_its_statements_once(ledger_db: Database) -> None:
    """Its fixed batch statements are planned once per connection, not on every batch."""
    for _ in range(RUNS):
        async with ledger_db.driver_transaction() as transaction:
            assert await transaction.run(COUNT_LEVELS, {"tenant": TENANT, "warehouse": WAREHOUSE}) == (SKUS,)

    assert await plans_of(ledger_db, COUNT_LEVELS) == (RUNS, 0)  # every run on the one generic plan
