"""Reads that go a page (or a slice) at a time answer what one read of the
whole answered, on both databases: demand summed per page, level lists
positioned by their cursor, reconciliation slice by slice.

Seeded with a ledger of random shape (two warehouses, a few hundred SKUs,
receipts, shipments and returns over two months), written as the store
writes it; the expected answers are computed from the seeded rows alone."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from kit import migrations
from kit.db import Database
from kit.identity import Principal, Role
from svc_stock import commands
from svc_stock.store.tables import levels, movements, sequences, warehouses
from svc_stock.store.unit import units
from svc_stock.usecases import reconciliation
from svc_stock.usecases.levels import Levels
from svc_stock.usecases.movements import Movements

TENANT = "tenant-a"
WHO = Principal("admin-1", TENANT, frozenset({Role.ADMIN}), "token")
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
WAREHOUSES = ("w-east", "w-west")


@dataclass
class Seeded:
    db: Database
    levels: list[dict[str, Any]]
    movements: list[dict[str, Any]]


@pytest.fixture
async def seeded(empty_database_url: str) -> AsyncIterator[Seeded]:
    migrations.upgrade("stock", empty_database_url)
    rng = random.Random(11)
    level_rows: list[dict[str, Any]] = []
    movement_rows: list[dict[str, Any]] = []
    for w in WAREHOUSES:
        for n in rng.sample(range(1000), 240):
            sku = f"SKU-{n:04d}"
            on_hand = 0
            for i in range(rng.randint(0, 6)):
                kinds = [("receipt", 20), ("shipment", -3), ("shipment", -1), ("return", 2)]
                kind, delta = kinds[0] if i == 0 else rng.choice(kinds)  # never below zero
                on_hand += delta
                movement_rows.append(_movement(len(movement_rows) + 1, kind, w, sku, delta, on_hand, rng))
            level_rows.append(_level(w, sku, on_hand, reorder_point=rng.choice([0, 5, 50])))
    db = Database(empty_database_url)
    async with db.transaction() as conn:
        await conn.execute(
            insert(warehouses),
            [
                {
                    "tenant_id": TENANT,
                    "id": w,
                    "code": w.upper(),
                    "display_name": w,
                    "address": "{}",
                    "status": "active",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "archived_at": None,
                    "version": 1,
                }
                for w in WAREHOUSES
            ],
        )
        await conn.execute(insert(levels), level_rows)
        await conn.execute(insert(movements), movement_rows)
        await conn.execute(insert(sequences), [{"tenant_id": TENANT, "last_sequence": len(movement_rows)}])
    yield Seeded(db, level_rows, movement_rows)
    await db.dispose()


def _level(warehouse_id: str, sku: str, on_hand: int, *, reorder_point: int) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "warehouse_id": warehouse_id,
        "sku": sku,
        "on_hand": on_hand,
        "reserved": 0,
        "reorder_point": reorder_point,
        "reorder_quantity": 10 if reorder_point else 0,
        "last_count_at": None,
        "updated_at": NOW,
        "version": 1,
    }


def _movement(
    sequence: int, kind: str, warehouse_id: str, sku: str, delta: int, on_hand: int, rng: random.Random
) -> dict[str, Any]:
    at = NOW - timedelta(days=rng.uniform(0, 60))
    return {
        "tenant_id": TENANT,
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "sequence": sequence,
        "type": kind,
        "warehouse_id": warehouse_id,
        "sku": sku,
        "quantity_delta": delta,
        "reserved_delta": 0,
        "on_hand_after": on_hand,
        "reserved_after": 0,
        "reason": None,
        "note": "",
        "reference": "",
        "reservation_id": "",
        "counterpart_warehouse_id": "",
        "user_id": "u",
        "caller": "c",
        "request_id": "r",
        "trace_id": "",
        "effective_at": at,
        "created_at": at,
    }


def _demand(
    rows: list[dict[str, Any]], warehouse_id: str, start: datetime
) -> dict[str, tuple[int, int, int]]:
    """Per SKU with a shipment or return in [start, NOW): shipped, returned, shipments."""
    out: dict[str, tuple[int, int, int]] = {}
    for m in rows:
        if m["warehouse_id"] != warehouse_id or not start <= m["effective_at"] < NOW:
            continue
        shipped, returned, count = out.get(m["sku"], (0, 0, 0))
        if m["type"] == "shipment":
            out[m["sku"]] = (shipped - m["quantity_delta"], returned, count + 1)
        elif m["type"] == "return":
            out[m["sku"]] = (shipped, returned + m["quantity_delta"], count)
    return out


async def _demand_pages(
    seeded: Seeded, start: datetime, skus: tuple[str, ...]
) -> dict[str, tuple[int, int, int]]:
    movements_of = Movements(units(seeded.db, lambda: NOW))
    out: dict[str, tuple[int, int, int]] = {}
    token = ""
    while True:
        page = await movements_of.summarize_demand(
            WHO, commands.SummarizeDemand(WAREHOUSES[0], start, NOW, skus, 7, token)
        )
        for d in page.summaries:
            assert d.sku not in out
            out[d.sku] = (d.sums.shipped, d.sums.returned, d.sums.shipments)
        token = page.next_page_token
        if not token:
            return out


async def test_demand_summed_page_by_page_is_the_demand_of_the_whole_window(seeded: Seeded) -> None:
    start = NOW - timedelta(days=28)

    paged = await _demand_pages(seeded, start, ())

    expected = _demand(seeded.movements, WAREHOUSES[0], start)
    assert list(paged) == sorted(expected)
    assert paged == expected


async def test_demand_of_chosen_skus_pages_through_them_with_zeros_where_none(seeded: Seeded) -> None:
    start = NOW - timedelta(days=28)
    chosen = tuple(sorted({r["sku"] for r in seeded.levels[:30]} | {"SKU-NONE"}))

    paged = await _demand_pages(seeded, start, chosen)

    expected = _demand(seeded.movements, WAREHOUSES[0], start)
    assert paged == {s: expected.get(s, (0, 0, 0)) for s in chosen}


@pytest.mark.parametrize(("warehouse_id", "low_only"), [(None, False), ("w-west", False), ("w-east", True)])
async def test_level_pages_walk_every_level_in_key_order(
    seeded: Seeded, warehouse_id: str | None, low_only: bool
) -> None:
    listing = Levels(units(seeded.db, lambda: NOW), catalog=None)  # type: ignore[arg-type]
    walked: list[tuple[str, str]] = []
    token = ""
    while True:
        page = await listing.list_levels(WHO, commands.ListLevels(warehouse_id, (), 9, token, low_only))
        walked += [(v.warehouse_id, v.sku) for v in page.items]
        token = page.next_page_token
        if not token:
            break

    expected = sorted(
        (r["warehouse_id"], r["sku"])
        for r in seeded.levels
        if warehouse_id in (None, r["warehouse_id"])
        and (
            not low_only or (r["reorder_quantity"] > 0 and r["on_hand"] - r["reserved"] <= r["reorder_point"])
        )
    )
    assert walked == expected


async def test_reconciliation_slice_by_slice_checks_every_level_and_finds_each_drift(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconciliation, "SLICE", 17)
    drifted = sorted((r["warehouse_id"], r["sku"]) for r in seeded.levels[::25])
    async with seeded.db.transaction() as conn:
        for w, sku in drifted:
            await conn.execute(
                levels.update()
                .where(levels.c.tenant_id == TENANT, levels.c.warehouse_id == w, levels.c.sku == sku)
                .values(on_hand=levels.c.on_hand + 1)
            )

    report = await reconciliation.reconcile(units(seeded.db, lambda: NOW), TENANT, None)

    assert report.checked == len(seeded.levels)
    assert [(d.warehouse_id, d.sku, d.kind) for d in report.drifts] == [
        (w, sku, "ledger_mismatch") for w, sku in drifted
    ]
