"""The PostgreSQL plans behind an operation that grows.

The operation's first request is handed to the same servicer classes the
services run, wired to the same use cases and stores, in this process against
the seeded databases, as the signed-in admin. A SQLAlchemy
`before/after_cursor_execute` listener on each engine records every statement
with its parameters and time; the statements that took most of the call's SQL
time are run again under EXPLAIN (ANALYZE, BUFFERS) with those parameters.
svc_procure's calls to svc_stock go to svc_stock's servicers in this process
too (clients.stock's StockClient with its stubs swapped), so a proposal shows
svc_stock's statements as well as its own.

Caveat: the plans are custom plans for the captured values. The services'
psycopg prepares a statement on its fifth execution, after which PostgreSQL
may settle on a generic plan.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from sqlalchemy import event

from bench.scale.operations import Operation
from bench.scale.stack import Stack
from clients.catalog.client import CatalogClient
from clients.stock.client import StockClient
from kit import auth
from kit.cache import Cache
from kit.db import Database
from kit.identity import Principal, Role
from kit.settings import Settings
from svc_catalog.service import CatalogServicer
from svc_catalog.store.unit import units as catalog_units
from svc_catalog.usecases.cache import CatalogCache
from svc_catalog.usecases.lookups import Lookups
from svc_catalog.usecases.products import Products
from svc_catalog.usecases.variants import Variants
from svc_procure.service import ReplenishmentServicer
from svc_procure.store.unit import units as procure_units
from svc_procure.usecases.drafts import ProposalDrafts
from svc_procure.usecases.replenishment import Replenishment
from svc_stock.app import use_cases
from svc_stock.service.stock import StockServicer
from svc_stock.service.warehouses import WarehouseServicer

SHOWN = 3  # statements per operation at most
SHARE = 0.1  # of the call's SQL time, at least
WIDTH = 220


@dataclass(frozen=True)
class Statement:
    url: str
    sql: str
    parameters: Any
    seconds: float


@dataclass
class Recorder:
    recording: bool = False
    statements: list[Statement] = field(default_factory=list)

    def attach(self, db: Database) -> None:
        def before(conn: Any, *_: Any) -> None:
            conn.info["scale_started"] = time.perf_counter()

        def after(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            seconds = time.perf_counter() - conn.info.pop("scale_started", time.perf_counter())
            if self.recording:
                self.statements.append(Statement(db.url, statement, parameters, seconds))

        event.listen(db.engine.sync_engine, "before_cursor_execute", before)
        event.listen(db.engine.sync_engine, "after_cursor_execute", after)


class Direct:
    """A servicer called as a client calls a stub, `Method(request)`, in this
    process and in the current context (so as the current caller)."""

    def __init__(self, servicer: object) -> None:
        self.servicer = servicer

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        handler = getattr(self.servicer, method)

        async def call(request: Any, **_: Any) -> Any:
            return await handler(request, None)

        return call


class DirectCatalog(CatalogClient):
    def __init__(self, catalog: CatalogServicer) -> None:
        self.stub = cast(Any, Direct(catalog))


class DirectStock(StockClient):
    def __init__(self, warehouses: WarehouseServicer, stock: StockServicer) -> None:
        self.warehouses = cast(Any, Direct(warehouses))
        self.levels = cast(Any, Direct(stock))


def clock() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def servicers(stack: Stack, recorder: Recorder) -> AsyncIterator[dict[str, object]]:
    """svc_catalog's, svc_stock's and svc_procure's servicers, wired as their app.py wires them."""
    dbs = {name: Database(stack.url(name), pool_size=2) for name in ("catalog", "stock", "procure")}
    for db in dbs.values():
        recorder.attach(db)
    try:
        units = catalog_units(dbs["catalog"], clock)
        cache = CatalogCache(Cache(None, service="catalog"))  # no Redis, as measured
        catalog = CatalogServicer(Products(units, cache), Variants(units, cache), Lookups(units, cache))
        settings = Settings.from_env("stock", {"DATABASE_URL": stack.url("stock")})
        cases = use_cases(settings, dbs["stock"], DirectCatalog(catalog))
        stock = StockServicer(cases.levels, cases.stock, cases.movements, cases.watcher)
        ledger = DirectStock(WarehouseServicer(cases.warehouses), stock)
        buying = procure_units(dbs["procure"], clock)
        procure = ReplenishmentServicer(Replenishment(buying, ledger), ProposalDrafts(buying, ledger))
        yield {"catalog": catalog, "stock": stock, "procure": procure}
    finally:
        for db in dbs.values():
            await db.dispose()


@dataclass(frozen=True)
class Call:
    """One in-process run of an operation: its time, its statements, or why it failed."""

    seconds: float
    statements: list[Statement]
    error: str = ""


async def capture(stack: Stack, operations: list[Operation]) -> dict[str, Call]:
    """Each operation's statements, from its second run (the first warms the pools)."""
    admin = Principal(stack.admin.user_id, stack.admin.tenant_id, frozenset({Role.ADMIN}), token_id="")
    auth.current.set(auth.Caller(admin, None, stack.admin.token))
    recorder = Recorder()
    captured: dict[str, Call] = {}
    async with servicers(stack, recorder) as by_service:
        for op in operations:
            handler = getattr(by_service[op.service], op.method)
            try:
                await handler(op.requests[0], None)
                recorder.recording, recorder.statements = True, []
                started = time.perf_counter()
                await handler(op.requests[0], None)
                captured[op.label] = Call(time.perf_counter() - started, recorder.statements)
            except Exception as exc:  # noqa: BLE001 - reported with the plans
                captured[op.label] = Call(0.0, [], f"{type(exc).__name__}: {exc}")
            recorder.recording = False
    return captured


def slowest(statements: list[Statement]) -> list[tuple[Statement, int, float]]:
    """(slowest instance, count, total seconds) of the statements that took most of the time."""
    groups: dict[str, list[Statement]] = {}
    for s in statements:
        groups.setdefault(s.sql, []).append(s)
    total = sum(s.seconds for s in statements) or 1.0
    ranked = sorted(
        ((max(g, key=lambda s: s.seconds), len(g), sum(s.seconds for s in g)) for g in groups.values()),
        key=lambda found: -found[2],
    )
    return [found for found in ranked[:SHOWN] if found[2] >= SHARE * total]


def explain(statement: Statement) -> list[str]:
    with psycopg.connect(statement.url, autocommit=True) as conn:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters).fetchall()
    return [str(row[0]) for row in rows]


def shorten(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def report(label: str, call: Call) -> list[str]:
    if call.error:
        return [f"== {label}: the in-process run failed: {call.error}"]
    sql_ms = sum(s.seconds for s in call.statements) * 1000
    lines = [
        f"== {label}: one call in process {call.seconds * 1000:.1f} ms, "
        f"of which {sql_ms:.1f} ms in {len(call.statements)} statements"
    ]
    for statement, count, seconds in slowest(call.statements):
        lines.append(
            f"-- {count} x, {seconds * 1000:.1f} ms in all, slowest {statement.seconds * 1000:.1f} ms:"
        )
        lines.append("   " + shorten(re.sub(r"\s+", " ", statement.sql), 4 * WIDTH))
        lines += ["     " + shorten(line) for line in explain(statement)]
    return lines


def print_plans(stack: Stack, operations: list[Operation]) -> None:
    if not operations:
        print("no operation's p50 grew enough to show its plans")
        return
    captured = asyncio.run(capture(stack, operations))
    for op in operations:
        print("\n".join(report(op.label, captured[op.label])), flush=True)
