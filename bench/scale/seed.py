"""Seeding at speed: rows COPYed straight into each service's own tables
(`bulk`), then VACUUM ANALYZE, then svc_stock's own ReconcileStockLevels must
find the ledger and the levels agree."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from bench.scale.bulk import copy_rows, random_uuid, without_keys
from bench.scale.catalog_seed import BRANDS, Article, articles, product_rows, variant_rows
from bench.scale.stack import Stack
from bench.scale.stock_seed import Ledger, is_low
from kit.settings import spiffe_id
from stockmesh.stock.v1 import stock_pb2 as stock_pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_catalog.store import tables as catalog_tables
from svc_procure.store import tables as procure_tables
from svc_stock.store import tables as stock_tables
from tests import harness

T = TypeVar("T")
SEEDED_TABLES = {
    "catalog": ("products", "variants"),
    "stock": ("movements", "stock_levels", "reservations", "reservation_lines", "ledger_sequences"),
    "procure": ("suppliers", "supplier_items"),
}


SKUS_PER_SUPPLIER = 2000
NO_SUPPLIER_EVERY = 100  # one SKU in a hundred has no supplier item: a NO_SUPPLIER proposal
SECOND_SUPPLIER_EVERY = 3  # one in three has a second supplier to choose from


@dataclass(frozen=True)
class Seeded:
    skus: list[str]
    barcodes: list[str]
    low: int  # levels at or below their reorder point
    demanded: int  # SKUs shipped in the last 28 days
    movements: int
    reservations: int
    supplier_items: int
    seconds: float
    phases: dict[str, float]  # seconds per step


def timed(phases: dict[str, float], name: str, work: Callable[..., T], *args: Any) -> T:
    started = time.perf_counter()
    try:
        return work(*args)
    finally:
        phases[name] = time.perf_counter() - started


def seed(stack: Stack, rng: random.Random) -> Seeded:
    started = time.perf_counter()
    now = datetime.now(UTC)
    made = now - timedelta(days=400)
    items = articles(stack.size, rng)
    ledger = Ledger(
        stack.admin.tenant_id,
        stack.warehouse_id,
        stack.admin.user_id,
        [a.sku for a in items],
        now,
        {
            account: spiffe_id(harness.TRUST_DOMAIN, harness.NAMESPACE, account)
            for account in harness.ACCOUNTS
        },
        random.Random(rng.random()),  # noqa: S311 - data, not secrets
    )
    phases: dict[str, float] = {}
    timed(phases, "catalog", seed_catalog, stack, items, made)
    supplier_items = timed(phases, "suppliers", seed_procure, stack, items, rng, made)
    movements, low = timed(phases, "ledger", seed_stock, stack, ledger)
    timed(phases, "vacuum analyze", vacuum_analyze, stack)
    timed(phases, "reconcile", check_reconciled, stack, ledger.last_sequence)
    return Seeded(
        skus=[a.sku for a in items],
        barcodes=[a.barcode for a in items],
        low=low,
        demanded=len(ledger.demanded),
        movements=movements,
        reservations=len(ledger.reservations),
        supplier_items=supplier_items,
        seconds=time.perf_counter() - started,
        phases=phases,
    )


def seed_catalog(stack: Stack, items: list[Article], made: datetime) -> None:
    tenant = stack.admin.tenant_id
    with psycopg.connect(stack.url("catalog")) as conn, without_keys(conn, SEEDED_TABLES["catalog"]):
        copy_rows(conn, catalog_tables.products, product_rows(tenant, items, made))
        copy_rows(conn, catalog_tables.variants, variant_rows(tenant, items, made))


def seed_stock(stack: Stack, ledger: Ledger) -> tuple[int, int]:
    """(movements, low levels)."""
    with psycopg.connect(stack.url("stock")) as conn, without_keys(conn, SEEDED_TABLES["stock"]):
        movements = copy_rows(conn, stock_tables.movements, ledger.movements())
        levels = list(ledger.levels())
        copy_rows(conn, stock_tables.levels, levels)
        copy_rows(conn, stock_tables.reservations, ledger.reservations.values())
        copy_rows(conn, stock_tables.reservation_lines, ledger.lines)
        last = {"tenant_id": stack.admin.tenant_id, "last_sequence": ledger.last_sequence}
        copy_rows(conn, stock_tables.sequences, [last])
    return movements, sum(map(is_low, levels))


def seed_procure(stack: Stack, items: list[Article], rng: random.Random, made: datetime) -> int:
    suppliers = list(supplier_rows(stack.admin.tenant_id, max(5, len(items) // SKUS_PER_SUPPLIER), rng, made))
    with psycopg.connect(stack.url("procure")) as conn, without_keys(conn, SEEDED_TABLES["procure"]):
        copy_rows(conn, procure_tables.suppliers, suppliers)
        return copy_rows(conn, procure_tables.supplier_items, item_rows(suppliers, items, rng, made))


def supplier_rows(tenant_id: str, count: int, rng: random.Random, made: datetime) -> Iterator[dict[str, Any]]:
    for k in range(count):
        yield {
            "tenant_id": tenant_id,
            "id": random_uuid(rng),
            "display_name": f"{BRANDS[k % len(BRANDS)]} Wholesale {k + 1:03d}",
            "contact_name": "Purchasing desk",
            "contact_email": f"orders@supplier-{k + 1:03d}.example",
            "contact_phone": f"+49 30 555 {k:04d}",
            "currency_code": "EUR",
            "default_lead_time_days": rng.randint(3, 21),
            "note": "",
            "status": "active",
            "created_at": made,
            "updated_at": made,
            "archived_at": None,
            "version": 1,
        }


def item_rows(
    suppliers: list[dict[str, Any]], items: list[Article], rng: random.Random, made: datetime
) -> Iterator[dict[str, Any]]:
    """Each SKU from one supplier, one in three from a second; one in a hundred from none."""
    count = len(suppliers)
    for i, a in enumerate(items):
        if i % NO_SUPPLIER_EVERY == NO_SUPPLIER_EVERY - 1:
            continue
        chosen = [i % count]
        if i % SECOND_SUPPLIER_EVERY == 0:
            chosen.append((i + 1 + rng.randrange(count - 1)) % count)
        price = a.price_units * 1_000_000_000 + a.price_nanos
        for rank, k in enumerate(chosen):
            supplier = suppliers[k]
            yield {
                "tenant_id": supplier["tenant_id"],
                "id": random_uuid(rng),
                "supplier_id": supplier["id"],
                "sku": a.sku,
                "supplier_sku": f"V{k + 1:03d}-{i:07d}",
                "unit_cost_nanos": int(price * rng.uniform(0.4, 0.7)),
                "lead_time_days": rng.choice((None, None, None, 5, 10, 14)),
                "minimum_order_quantity": rng.choice((1, 1, 6, 12, 24)),
                "pack_size": rng.choice((1, 1, 6, 12)),
                "preferred": rank == 0 and i % 2 == 0,
                "status": "active",
                "created_at": made,
                "updated_at": made,
                "version": 1,
            }


def vacuum_analyze(stack: Stack) -> None:
    """Statistics for the planner, and the visibility map autovacuum would set
    soon after such a load anyway (so it does not run during the measurements)."""
    for service, tables in SEEDED_TABLES.items():
        with psycopg.connect(stack.url(service), autocommit=True) as conn:
            for table in tables:
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def check_reconciled(stack: Stack, last_sequence: int) -> None:
    """svc_stock's own check must find every level equal to its ledger, else the seed is wrong."""
    with stack.services["stock"].channel() as channel:
        report = stock_pb2_grpc.StockServiceStub(channel).ReconcileStockLevels(
            stock_pb.ReconcileStockLevelsRequest(parent=stack.warehouse), metadata=stack.metadata, timeout=600
        )
    if report.drifts or report.truncated or report.checked_level_count != stack.size:
        shown = "\n".join(
            f"  {d.sku} {d.field}: expected {d.expected}, actual {d.actual}" for d in report.drifts[:10]
        )
        raise SystemExit(
            f"the seed is inconsistent: {len(report.drifts)} drift(s) (truncated: {report.truncated}), "
            f"{report.checked_level_count} of {stack.size} levels checked\n{shown}"
        )
    if report.ledger_sequence != last_sequence:
        raise SystemExit(f"ledger sequence {report.ledger_sequence}, expected {last_sequence}")
