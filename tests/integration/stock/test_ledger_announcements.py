"""On PostgreSQL every transaction that appends to the ledger of a watched
tenant announces it on commit, whichever way it writes (a reservation batch,
or a booking such as a release); a write that is refused, or to a tenant
nobody watches, announces nothing. Driven
through the use case, listening on a connection of the test's own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest

from kit import migrations
from kit.db import Database
from kit.identity import Principal, Role
from svc_stock import commands
from svc_stock.domain import InsufficientStock, Line, Provenance
from svc_stock.store import feed as feed_store
from svc_stock.store.feed import CHANNEL
from svc_stock.store.unit import reservation_batches, units
from svc_stock.usecases.granting import Granting
from svc_stock.usecases.reservations import Reservations, reservation_etag
from tests import harness
from tests.support.stock_rows import warehouse_with_level

SKU = "ANNOUNCE-1"
WATCHER = "test-hub"


@dataclass
class Setup:
    granting: Granting
    reservations: Reservations
    who: Principal
    warehouse: str
    listener: psycopg.AsyncConnection[object]
    db: Database

    def origin(self) -> Provenance:
        return Provenance(self.who.user_id, "caller", str(uuid.uuid4()), "")

    def reserve(self, quantity: int) -> commands.Reserve:
        return commands.Reserve("orders/announce", (Line(self.warehouse, SKU, quantity),), commands.Expiry())

    async def announced(self) -> list[str]:
        """The payloads received: the first within five seconds, then any
        more within half a second of it."""
        first = [n.payload async for n in self.listener.notifies(timeout=5, stop_after=1)]
        return first + [n.payload async for n in self.listener.notifies(timeout=0.5)]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    with harness.postgres_database() as url:
        migrations.upgrade("stock", url)
        db = Database(url)
        tenant, warehouse = str(uuid.uuid4()), str(uuid.uuid4())
        await warehouse_with_level(db, tenant, warehouse, SKU, 10)
        listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
        await listener.execute(f"LISTEN {CHANNEL}")
        await feed_store.watch(db, WATCHER, [tenant], 60)
        system = Provenance("", "spiffe://stockmesh.test/ns/stockmesh/sa/svc-stock", "", "")
        who = Principal("user-1", tenant, frozenset({Role.CLERK}), "token-1")
        try:
            stock_units = units(db, lambda: datetime.now(UTC))
            yield Setup(
                Granting(stock_units, reservation_batches(db), system=system),
                Reservations(stock_units, system=system),
                who,
                warehouse,
                listener,
                db,
            )
        finally:
            await listener.close()
            await db.dispose()


async def test_every_write_path_announces_its_tenant_on_commit_and_a_refused_write_does_not(
    setup: Setup,
) -> None:
    granting, tenant = setup.granting, setup.who.tenant_id

    # A batch that grants.
    whole = await granting.reserve(setup.who, setup.origin(), setup.reserve(2))
    after_whole = await setup.announced()
    # Short: the batch grants nothing and rolls back.
    with pytest.raises(InsufficientStock):
        await granting.reserve(setup.who, setup.origin(), setup.reserve(50))
    after_refusal = await setup.announced()
    # The tenant's next batch, after a refusal.
    await granting.reserve(setup.who, setup.origin(), setup.reserve(3))
    after_one_by_one = await setup.announced()
    # A release books on the ledger.
    release = commands.Release(whole.reservation.id, reservation_etag(whole.reservation))
    await setup.reservations.release(setup.who, setup.origin(), release)
    after_release = await setup.announced()

    assert after_whole == [tenant]
    assert after_refusal == []
    assert after_one_by_one == [tenant]
    assert after_release == [tenant]


async def test_appends_to_a_tenant_nobody_watches_announce_nothing(setup: Setup) -> None:
    # A notifying commit is serialized with every other one of the server:
    # with no hub watching, the hot path must not pay for it.
    await feed_store.unwatch(setup.db, WATCHER)

    await setup.granting.reserve(setup.who, setup.origin(), setup.reserve(2))
    unwatched = await setup.announced()
    await feed_store.watch(setup.db, WATCHER, [setup.who.tenant_id], 60)
    await setup.granting.reserve(setup.who, setup.origin(), setup.reserve(2))
    watched = await setup.announced()

    assert unwatched == []
    assert watched == [setup.who.tenant_id]
