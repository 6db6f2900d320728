"""Replenishment on svc_procure's SQL store, on SQLite and PostgreSQL: the
same answer as when every order was read at once, line rows that follow
every change of their order, per-page sums served by the index, and the
migration that copies the lines of existing orders."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import ClauseElement, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from kit import migrations
from kit.db import Database
from kit.identity import Principal, Role
from kit.uow import Units
from svc_procure import commands
from svc_procure.domain import orders as domain
from svc_procure.domain.orders import PurchaseOrder, PurchaseOrderState
from svc_procure.ports import Coming, ProcureUnit
from svc_procure.store import order_lines, tables, unit
from svc_procure.store.suppliers import active_items_query
from svc_procure.usecases.replenishment import Replenishment
from tests.fakes.procure import Stock
from tests.support.procure_world import WHEN, World, before, low, order, random_world, supplier

TENANT, WAREHOUSE = "t1", "w1"
S = PurchaseOrderState
BUYER = Principal("u1", TENANT, frozenset({Role.BUYER}), "token")


@pytest.fixture
async def database(empty_database_url: str) -> AsyncIterator[Database]:
    migrations.upgrade("procure", empty_database_url)
    db = Database(empty_database_url)
    yield db
    await db.dispose()


def units_on(db: Database) -> Units[ProcureUnit]:
    return unit.units(db, lambda: WHEN)


async def stored(db: Database, world: World) -> None:
    """Suppliers and items as rows, at once (thousands of items one by one
    would take seconds); orders through the repository, which writes their
    line rows."""
    async with db.transaction() as conn:
        await conn.execute(insert(tables.suppliers), [row_of(s, tables.suppliers) for s in world.suppliers])
        if world.items:
            await conn.execute(
                insert(tables.supplier_items), [row_of(i, tables.supplier_items) for i in world.items]
            )

    async def work(uow: ProcureUnit) -> None:
        for o in world.orders:
            await uow.orders.add(o)

    await units_on(db).run(work)


def stock_of(world: World) -> Stock:
    return Stock(warehouses={WAREHOUSE: True}, low={WAREHOUSE: world.lows}, demands=world.demands)


def propose(*skus: str) -> commands.ProposeReplenishment:
    return commands.ProposeReplenishment(WAREHOUSE, 28, 14, skus)


async def test_a_mixed_warehouse_gets_on_sql_the_answer_it_got_at_once(database: Database) -> None:
    world = random_world(7, TENANT, WAREHOUSE, lows=1300, skus=1500, orders=250)
    units = units_on(database)
    await stored(database, world)

    found = await Replenishment(units, stock_of(world)).propose(BUYER, propose())

    assert (found.candidates, found.truncated) == before(world, TENANT, propose())
    assert found.truncated  # two pages, the best 1000 kept
    asked = tuple(lv.sku for lv in world.lows[::5])
    found = await Replenishment(units, stock_of(world)).propose(BUYER, propose(*asked))
    assert (found.candidates, found.truncated) == before(world, TENANT, propose(*asked))


async def test_line_rows_follow_each_change_of_their_order(database: Database) -> None:
    acme = supplier(TENANT, 1)
    draft = order(1, acme, WAREHOUSE, S.DRAFT, [("A", 10, 0), ("B", 4, 0)])
    world = World(suppliers=[acme], orders=[draft], lows=[low("A", 0, 50), low("B", 0, 50)])
    units = units_on(database)
    await stored(database, world)

    async def changed(current: PurchaseOrder, change: PurchaseOrder) -> PurchaseOrder:
        async def work(uow: ProcureUnit) -> None:
            assert await uow.orders.save(change, current.version)

        await units.run(work)
        return change

    async def coming() -> dict[str, Coming]:
        async with units.read() as uow:
            return await uow.orders.coming(TENANT, WAREHOUSE, ["A", "B", "C"])

    assert await coming() == {"A": Coming(0, 10), "B": Coming(0, 4)}
    lines = (*draft.lines[:1], dataclasses.replace(draft.lines[1], sku="C", quantity_ordered=6))
    edited = await changed(draft, dataclasses.replace(draft, lines=lines, version=2))
    assert await coming() == {"A": Coming(0, 10), "C": Coming(0, 6)}
    submitted = await changed(edited, dataclasses.replace(edited, state=S.SUBMITTED, version=3))
    assert await coming() == {"A": Coming(10, 0), "C": Coming(6, 0)}
    partly = domain.received(submitted, {"A": 4}, WHEN)
    partly = await changed(submitted, dataclasses.replace(partly, version=4))
    assert await coming() == {"A": Coming(6, 0), "C": Coming(6, 0)}
    closed = domain.ended(partly, S.CLOSED, "short shipped", WHEN)
    await changed(partly, dataclasses.replace(closed, version=5))
    assert await coming() == {}

    async def stale(uow: ProcureUnit) -> None:  # a refused save changes no line rows
        assert not await uow.orders.save(dataclasses.replace(draft, version=9), 1)

    await units.run(stale)
    assert await coming() == {}


async def explain(conn: AsyncConnection, query: ClauseElement) -> str:
    """The plan of `query` as the driver gets it (SKUs as parameters, the
    states inlined), for a large table: the test tables are empty."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    # SQLite's driver takes the values in order, psycopg by name.
    params = tuple(compiled.params[k] for k in compiled.positiontup or ()) or compiled.params
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    plan = await conn.exec_driver_sql(prefix + str(compiled), params)
    return " ".join(str(part) for row in plan for part in row)


async def test_each_pages_reads_are_served_by_indexes(database: Database) -> None:
    skus = [f"SKU-{n:04d}" for n in range(1000)]
    async with database.transaction() as conn:
        coming = await explain(conn, order_lines.coming_query(TENANT, WAREHOUSE, skus, conn.dialect))
        items = await explain(conn, active_items_query(TENANT, skus, None, conn.dialect))
    assert "ix_purchase_order_lines_coming" in coming, coming[:500]
    assert "ix_supplier_items_tenant_id_sku" in items, items[:500]


async def test_the_migration_copies_the_lines_of_existing_orders(empty_database_url: str) -> None:
    migrations.upgrade("procure", empty_database_url, "0001")
    acme = supplier(TENANT, 1)
    existing = [
        order(1, acme, WAREHOUSE, S.SUBMITTED, [("A", 10, 0), ("B", 3, 0)]),
        order(2, acme, WAREHOUSE, S.PARTIALLY_RECEIVED, [("A", 10, 4)]),
        order(3, acme, WAREHOUSE, S.DRAFT, [("B", 5, 0)]),
        order(4, acme, WAREHOUSE, S.RECEIVED, [("A", 9, 9)]),
        order(5, acme, "elsewhere", S.SUBMITTED, [("A", 7, 0)]),
    ]
    db = Database(empty_database_url)
    try:
        async with db.transaction() as conn:  # rows as a 0001 store wrote them: lines as JSON only
            await conn.execute(insert(tables.suppliers).values(**row_of(acme, tables.suppliers)))
            for o in existing:
                await conn.execute(insert(tables.purchase_orders).values(**order_row(o)))
        migrations.upgrade("procure", empty_database_url)
        async with units_on(db).read() as uow:
            assert await uow.orders.coming(TENANT, WAREHOUSE, ["A", "B"]) == {
                "A": Coming(16, 0),
                "B": Coming(3, 5),
            }
            assert await uow.orders.coming(TENANT, "elsewhere", ["A"]) == {"A": Coming(7, 0)}
    finally:
        await db.dispose()


def row_of(entity: object, table: Table) -> dict[str, object]:
    values = {name: getattr(entity, name) for name in tables.columns(table)}
    return values | {"status": str(values["status"])}


def order_row(o: PurchaseOrder) -> dict[str, object]:
    values = {name: getattr(o, name) for name in tables.columns(tables.purchase_orders)}
    lines = json.dumps([dataclasses.asdict(line) for line in o.lines])
    return values | {"state": o.state.value, "lines": lines}
