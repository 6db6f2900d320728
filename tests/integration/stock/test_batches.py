"""Reservations granted in batches, driven through the use case on PostgreSQL:
every caller gets the answer it would have had alone, in arrival order, and
a replay of any of them returns exactly what it returned."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from kit import migrations
from kit.db import Database
from kit.driver import Statement
from kit.identity import Principal, Role
from svc_stock import commands
from svc_stock.domain import InsufficientStock, Line, Provenance, ReservationOutcome
from svc_stock.store.pg_batches import CLAIM_AND_LOCK_SQL
from svc_stock.store.unit import reservation_batches, units
from svc_stock.usecases.granting import Granting
from tests import harness
from tests.support.hot_path_plans import plans_of
from tests.support.stock_rows import warehouse_with_level

SKU = "BATCH-1"
CLAIMS = Statement("claims", "SELECT count(*) FROM idempotency_records", {})


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Granting, Principal, str, Database]]:
    with harness.postgres_database() as url:
        migrations.upgrade("stock", url)
        db = Database(url)
        tenant, warehouse = str(uuid.uuid4()), str(uuid.uuid4())
        await warehouse_with_level(db, tenant, warehouse, SKU, 10)
        system = Provenance("", "spiffe://stockmesh.test/ns/stockmesh/sa/svc-stock", "", "")
        who = Principal("user-1", tenant, frozenset({Role.CLERK}), "token-1")
        try:
            granting = Granting(units(db, lambda: datetime.now(UTC)), reservation_batches(db), system=system)
            yield granting, who, warehouse, db
        finally:
            await db.dispose()


def one(warehouse: str, quantity: int) -> commands.Reserve:
    return commands.Reserve("orders/batch", (Line(warehouse, SKU, quantity),), commands.Expiry())


async def test_concurrent_reservations_beyond_the_stock_are_granted_exactly_what_fits(
    setup: tuple[Granting, Principal, str, Database],
) -> None:
    reservations, who, warehouse, _ = setup
    requests = [str(uuid.uuid4()) for _ in range(14)]

    async def attempt(request_id: str) -> ReservationOutcome | InsufficientStock:
        try:
            return await reservations.reserve(
                who, Provenance(who.user_id, "caller", request_id, ""), one(warehouse, 1)
            )
        except InsufficientStock as short:
            return short

    outcomes = await asyncio.gather(*(attempt(r) for r in requests))

    granted = [o for o in outcomes if isinstance(o, ReservationOutcome)]
    assert len(granted) == 10
    assert sum(isinstance(o, InsufficientStock) for o in outcomes) == 4
    # Each answer shows the level just after it, in one order of sequences.
    after = sorted((o.movements[0].sequence, o.levels[0].reserved) for o in granted)
    assert [reserved for _, reserved in after] == list(range(1, 11))
    assert [sequence for sequence, _ in after] == list(range(after[0][0], after[0][0] + 10))
    assert all(o.levels[0].last_movement_sequence == o.movements[0].sequence for o in granted)


async def test_a_replay_of_a_reservation_granted_in_a_batch_returns_what_it_returned(
    setup: tuple[Granting, Principal, str, Database],
) -> None:
    reservations, who, warehouse, _ = setup
    origins = [Provenance(who.user_id, "caller", str(uuid.uuid4()), "") for _ in range(6)]

    first = await asyncio.gather(*(reservations.reserve(who, o, one(warehouse, 1)) for o in origins))
    again = await asyncio.gather(*(reservations.reserve(who, o, one(warehouse, 1)) for o in origins))

    assert [(a.reservation.id, a.movements) for a in again] == [
        (f.reservation.id, f.movements) for f in first
    ]
    assert [a.levels[0].reserved for a in again] == [f.levels[0].reserved for f in first]


async def test_a_batch_that_cannot_be_granted_whole_writes_only_what_it_grants(
    setup: tuple[Granting, Principal, str, Database],
) -> None:
    reservations, who, warehouse, _ = setup
    commands_ = [one(warehouse, q) for q in (4, 7, 3, 3, 1)]  # 10 on hand: 4, 3, 3 fit in turn

    async def attempt(cmd: commands.Reserve) -> int:
        try:
            outcome = await reservations.reserve(
                who, Provenance(who.user_id, "caller", str(uuid.uuid4()), ""), cmd
            )
        except InsufficientStock:
            return 0
        return outcome.movements[0].reserved_delta

    granted = await asyncio.gather(*(attempt(c) for c in commands_))

    assert sum(granted) == 10
    async with reservations.units.read() as uow:
        level = (await uow.levels.by_key(who.tenant_id, [(warehouse, SKU)]))[(warehouse, SKU)]
        sums = await uow.ledger.sums(who.tenant_id, None)
    assert level.reserved == 10
    assert sums[(warehouse, SKU)][1] == 10


async def test_refused_batches_keep_nothing_and_leave_the_batch_statements_prepared(
    setup: tuple[Granting, Principal, str, Database],
) -> None:
    # A batch that writes nothing rolls back, its claims included; the
    # statements its connection prepared stay, so a sold-out level's batches
    # are not planned again and again.
    reservations, who, warehouse, db = setup

    async def refused() -> None:
        origin = Provenance(who.user_id, "caller", str(uuid.uuid4()), "")
        with pytest.raises(InsufficientStock):
            await reservations.reserve(who, origin, one(warehouse, 11))

    for _ in range(8):
        await refused()

    async with db.driver_transaction() as transaction:
        claims = await transaction.run(CLAIMS, {})

    assert await plans_of(db, CLAIM_AND_LOCK_SQL) == (8, 0)  # one generic plan for the eight batches
    assert claims == (0,)
