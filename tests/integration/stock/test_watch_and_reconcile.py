"""The live stream tells each change in order and resumes from a cursor
without loss or repeats; reconciliation finds a planted drift."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
import sqlalchemy
from grpc import aio

from kit import status
from kit.db import sync_url
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from tests import harness
from tests.integration.stock.conftest import World


@pytest.fixture
async def stub(world: World) -> AsyncIterator[stock_pb2_grpc.StockServiceStub]:
    async with harness.aio_channel(world.stock) as channel:
        yield stock_pb2_grpc.StockServiceStub(channel)


async def take(
    stream: aio.UnaryStreamCall, count: int, *, skip_heartbeats: bool = True
) -> list[pb.WatchStockLevelsResponse]:  # type: ignore[type-arg]
    out: list[pb.WatchStockLevelsResponse] = []
    while len(out) < count:
        message = await asyncio.wait_for(stream.read(), timeout=10)
        if skip_heartbeats and message.type == pb.WATCH_EVENT_TYPE_HEARTBEAT:
            continue
        out.append(message)
    return out


async def receive_in_thread(world: World, warehouse: str, sku: str, quantity: int) -> None:
    await asyncio.to_thread(world.receive, warehouse, sku, quantity)


async def test_a_subscriber_sees_each_change_in_order_and_resumes_exactly_where_it_left(
    world: World, stub: stock_pb2_grpc.StockServiceStub
) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 1)
    request = pb.WatchStockLevelsRequest(parent=warehouse, send_initial_levels=True)
    stream = stub.WatchStockLevels(request, metadata=world.as_role())

    snapshot, complete = await take(stream, 2)
    for quantity in (2, 3, 4):
        await receive_in_thread(world, warehouse, sku, quantity)
    changes = await take(stream, 3)
    stream.cancel()
    for quantity in (5, 6):
        await receive_in_thread(world, warehouse, sku, quantity)
    resumed = stub.WatchStockLevels(
        pb.WatchStockLevelsRequest(parent=warehouse, cursor=changes[-1].cursor), metadata=world.as_role()
    )
    missed = await take(resumed, 2)
    resumed.cancel()

    assert (snapshot.type, snapshot.stock_level.on_hand) == (pb.WATCH_EVENT_TYPE_SNAPSHOT, 1)
    assert complete.type == pb.WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE
    assert [c.movement.quantity_delta for c in changes] == [2, 3, 4]
    assert [c.stock_level.on_hand for c in changes] == [3, 6, 10]
    assert [m.movement.quantity_delta for m in missed] == [5, 6]
    sequences = [c.movement.sequence for c in [*changes, *missed]]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 5


async def test_an_idle_stream_sends_heartbeats_with_a_cursor(
    world: World, stub: stock_pb2_grpc.StockServiceStub
) -> None:
    warehouse = world.warehouse()
    stream = stub.WatchStockLevels(pb.WatchStockLevelsRequest(parent=warehouse), metadata=world.as_role())

    (beat,) = await take(stream, 1, skip_heartbeats=False)
    stream.cancel()

    assert beat.type == pb.WATCH_EVENT_TYPE_HEARTBEAT
    assert beat.cursor


async def test_a_malformed_cursor_is_bad_input(world: World, stub: stock_pb2_grpc.StockServiceStub) -> None:
    stream = stub.WatchStockLevels(
        pb.WatchStockLevelsRequest(parent="warehouses/-", cursor="not-a-cursor"), metadata=world.as_role()
    )

    with pytest.raises(grpc.RpcError) as info:
        await stream.read()

    assert status.details_of(info.value).field_violations.keys() == {"cursor"}


def test_reconciliation_reports_a_planted_drift(world: World) -> None:
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 7)
    engine = sqlalchemy.create_engine(sync_url(world.stock.database_url))
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(
                "UPDATE stock_levels SET on_hand = on_hand + 2 WHERE warehouse_id = :w AND sku = :s"
            ),
            {"w": warehouse.removeprefix("warehouses/"), "s": sku},
        )
    engine.dispose()

    report = world.levels.ReconcileStockLevels(
        pb.ReconcileStockLevelsRequest(parent=warehouse), metadata=world.as_role(), timeout=10
    )

    (drift,) = report.drifts
    assert (drift.sku, drift.field, drift.kind) == (sku, "on_hand", pb.DRIFT_KIND_LEDGER_MISMATCH)
    assert (drift.expected, drift.actual) == (7, 9)
