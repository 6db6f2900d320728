"""The search indexes answer exactly what the plain scans answered, on both
databases: free text is "every query word starts a word of search_text"
(the old `LIKE '% word%'`), and keyset pages follow (sort key, id).

Seeded with a few hundred products of random words (accents, digits,
barcodes, shared prefixes), then changed, so the indexes' triggers and
maintenance are part of what is compared."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from kit import migrations
from kit.db import Database
from svc_catalog import domain
from svc_catalog.store import search
from svc_catalog.store.products import SqlProducts
from svc_catalog.store.tables import products, variants
from svc_catalog.store.variants import SqlVariants

TENANT = "tenant-a"
OTHER = "tenant-b"
STEMS = ["rot", "rote", "rotwein", "blau", "bläulich", "café", "cafe", "öl", "olive", "x", "x1", "42", "4200"]


@pytest.fixture
async def seeded(empty_database_url: str) -> AsyncIterator[Database]:
    migrations.upgrade("catalog", empty_database_url)
    db = Database(empty_database_url)
    rng = random.Random(7)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    variant_rows: list[dict[str, Any]] = []
    for i in range(300):
        name = " ".join(rng.choice(STEMS) for _ in range(rng.randint(1, 3))).title()
        product_id = str(uuid.UUID(int=rng.getrandbits(128)))
        sku = f"SKU-{i:04d}-{rng.choice(STEMS).upper()}"
        barcode = f"{rng.randrange(10**12):012d}"
        description = rng.choice(["", "Aus dem Süden", "from the north", "4200 ml"])
        tenant_id = TENANT if i % 10 else OTHER
        rows.append(
            {
                "id": product_id,
                "tenant_id": tenant_id,
                "display_name": name,
                "sort_key": domain.sort_key(name),
                "description": description,
                "brand": "",
                "brand_key": "",
                "category": "",
                "status": "active",
                "search_text": domain.search_text(name, description, sku, barcode),
                "created_at": now,
                "updated_at": now,
                "archived_at": None,
                "version": 1,
            }
        )
        variant_rows.append(_variant_row(product_id, tenant_id, sku, name, barcode, now))
    async with db.transaction() as conn:
        await conn.execute(insert(products), rows)
        await conn.execute(insert(variants), variant_rows)
        # Renames after the fact: the indexes must follow updates too.
        for row in rows[:40]:
            renamed = f"{row['display_name']} Olivenöl"
            await conn.execute(
                update(products)
                .where(products.c.id == row["id"])
                .values(
                    display_name=renamed,
                    sort_key=domain.sort_key(renamed),
                    search_text=domain.search_text(renamed),
                )
            )
    yield db
    await db.dispose()


def _variant_row(
    product_id: str, tenant_id: str, sku: str, name: str, barcode: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": tenant_id,
        "product_id": product_id,
        "sku": sku,
        "sku_key": domain.sku_key(sku),
        "display_name": name,
        "attributes": "{}",
        "unit_of_measure": "EA",
        "price_currency": "EUR",
        "price_units": 1,
        "price_nanos": 0,
        "barcode": barcode,
        "barcode_key": barcode.zfill(14),
        "status": "active",
        "search_text": domain.search_text(sku, name, barcode),
        "created_at": now,
        "updated_at": now,
        "archived_at": None,
        "version": 1,
    }


QUERIES = [
    "rot",
    "ro",
    "r",
    "rotw",
    "blau",
    "bläu",
    "caf",
    "café",
    "öl",
    "oliv",
    "olivenöl",
    "x",
    "42",
    "rot blau",
    "x1 rot",
    "sku",
    "sku 0042",
    "süd",
    "nichts",
    "zz",
    "4",
    "ml 4200",
]


def _expected(rows: Sequence[Any], query: str) -> list[str]:
    """The old rule, in Python: each word is the start of a word of search_text."""
    words = domain.words(query)
    found = [r for r in rows if r.tenant_id == TENANT and all(f" {w}" in r.search_text for w in words)]
    return [r.id for r in sorted(found, key=lambda r: (r.sort_key, r.id))]


@pytest.mark.parametrize("query", QUERIES)
async def test_product_search_finds_what_the_word_prefix_rule_finds(seeded: Database, query: str) -> None:
    async with seeded.transaction() as conn:
        every = (await conn.execute(select(products))).all()
        found = await SqlProducts(conn).list(
            TENANT, after=None, limit=1000, status=None, words=domain.words(query), brand="", category=""
        )

    assert [p.id for p in found] == _expected(every, query)


@pytest.mark.parametrize("query", QUERIES)
async def test_variant_search_finds_what_the_word_prefix_rule_finds(seeded: Database, query: str) -> None:
    async with seeded.transaction() as conn:
        every = (await conn.execute(select(variants))).all()
        found = await SqlVariants(conn).list(
            TENANT, product_id=None, after="", limit=1000, status=None, words=domain.words(query)
        )

    words = domain.words(query)
    expected = sorted(
        (r for r in every if r.tenant_id == TENANT and all(f" {w}" in r.search_text for w in words)),
        key=lambda r: r.sku_key,
    )
    assert [v.id for v in found] == [r.id for r in expected]


@pytest.mark.parametrize("query", ["", "rot", "x"])
async def test_keyset_pages_walk_the_list_in_order_without_gaps_or_repeats(
    seeded: Database, query: str
) -> None:
    async with seeded.transaction() as conn:
        every = (await conn.execute(select(products))).all()
        listing = SqlProducts(conn)
        walked: list[str] = []
        after: tuple[str, str] | None = None
        while True:
            page = await listing.list(
                TENANT, after=after, limit=7, status=None, words=domain.words(query), brand="", category=""
            )
            walked += [p.id for p in page]
            if len(page) < 7:
                break
            after = (domain.sort_key(page[-1].display_name), page[-1].id)

    assert walked == _expected(every, query)


@pytest.mark.parametrize("few", [3, 1000])
@pytest.mark.parametrize("query", ["rot", "x", "42", "sku", "nichts"])
async def test_variant_search_pages_are_the_same_whether_matches_are_sorted_or_walked_in_order(
    seeded: Database, query: str, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With room for 3 matches, every page of a common word takes the walk in
    # SKU order and its last pages the sorted matches; with 1,000 every page
    # is sorted from the full-text index (PostgreSQL; SQLite has one shape).
    monkeypatch.setattr(search, "FEW", few)
    async with seeded.transaction() as conn:
        every = (await conn.execute(select(variants))).all()
        listing = SqlVariants(conn)
        walked: list[str] = []
        after = ""
        while True:
            page = await listing.list(
                TENANT, product_id=None, after=after, limit=7, status=None, words=domain.words(query)
            )
            walked += [v.id for v in page]
            if len(page) < 7:
                break
            after = domain.sku_key(page[-1].sku)

    words = domain.words(query)
    expected = sorted(
        (r for r in every if r.tenant_id == TENANT and all(f" {w}" in r.search_text for w in words)),
        key=lambda r: r.sku_key,
    )
    assert walked == [r.id for r in expected]
