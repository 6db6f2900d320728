"""The live stream at scale: on PostgreSQL one listening connection per
process wakes every stream, each change is read once for all of them, and
no stream loses or repeats a change when it resumes, falls behind, or the
listening connection dies. On both databases a stream is checked before it
starts: a refusal is the call's status alone, a started stream says so at
once with its initial metadata."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import psycopg
import pytest
from grpc import aio

from kit import status
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_stock.store.feed import APPLICATION_NAME
from tests import harness
from tests.conftest import new_id
from tests.integration.stock.conftest import World

Stream = Any  # a grpc.aio stream call


def watch(stub: stock_pb2_grpc.StockServiceStub, world: World, parent: str, cursor: str = "") -> Stream:
    request = pb.WatchStockLevelsRequest(parent=parent, cursor=cursor)
    return stub.WatchStockLevels(request, metadata=world.as_role())


async def take(stream: Stream, count: int, *, timeout: float = 10) -> list[pb.WatchStockLevelsResponse]:
    """The next `count` changes; the quiet service sends no heartbeat."""
    out: list[pb.WatchStockLevelsResponse] = []
    while len(out) < count:
        message = await asyncio.wait_for(stream.read(), timeout=timeout)
        assert message.type == pb.WATCH_EVENT_TYPE_CHANGE
        out.append(message)
    return out


async def nothing_more(stream: Stream, seconds: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(stream.read(), timeout=seconds)
    except TimeoutError:
        return True
    return False


async def read_all(stream: Stream, into: list[pb.WatchStockLevelsResponse]) -> None:
    async for message in stream:
        into.append(message)


def listening_backends(world: World) -> list[tuple[int, str, str, str]]:
    """(pid, application name, state, last query) of every session of the
    service's database that is the hub's or ran LISTEN."""
    with psycopg.connect(world.stock.database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, application_name, state, query FROM pg_stat_activity"
            " WHERE datname = current_database() AND (query ILIKE 'LISTEN %%' OR application_name = %s)",
            (APPLICATION_NAME,),
        ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)
    return found


def listening(world: World, *, not_pid: int | None = None) -> int:
    """The pid of the one session listening, once it is idle in LISTEN."""

    def one() -> int | None:
        backends = listening_backends(world)
        if len(backends) == 1 and backends[0][2] == "idle" and backends[0][0] != not_pid:
            return backends[0][0]
        return None

    return int(eventually(one))


def metric(world: World, name: str, **labels: str) -> float:
    url = f"http://127.0.0.1:{world.stock.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{wanted}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def settled(world: World, name: str, **labels: str) -> float:
    """The metric once it has not moved for longer than the hub's settle
    delay: the hub reads once more right after LISTEN succeeds, and once more
    a second after a tenant registers (`feed._SETTLE_SECONDS`)."""
    value = metric(world, name, **labels)
    while True:
        await asyncio.sleep(1.5)
        if (now := metric(world, name, **labels)) == value:
            return value
        value = now


def receive_lines(world: World, warehouse: str, lines: list[tuple[str, int]]) -> None:
    world.levels.ReceiveStock(
        pb.ReceiveStockRequest(
            request_id=new_id(),
            warehouse=warehouse,
            lines=[pb.StockLine(sku=sku, quantity=quantity) for sku, quantity in lines],
        ),
        metadata=world.as_role(),
        timeout=10,
    )


async def test_one_change_reaches_fifty_subscribers_read_once_through_one_listening_connection(
    pg_quiet_world: World,
) -> None:
    world = pg_quiet_world
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 1)
    stream_reads = metric(world, "stockmesh_watch_ledger_reads_total", reader="stream")
    async with harness.aio_channel(world.stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        streams = [watch(stub, world, warehouse) for _ in range(50)]
        await asyncio.gather(*(s.initial_metadata() for s in streams))
        # Each stream reads the ledger once on its own, to catch up to the hub.
        eventually(
            lambda: metric(world, "stockmesh_watch_ledger_reads_total", reader="stream") >= stream_reads + 50
        )
        pid = listening(world)
        hub_reads = await settled(world, "stockmesh_watch_ledger_reads_total", reader="hub")
        stream_reads = metric(world, "stockmesh_watch_ledger_reads_total", reader="stream")

        await asyncio.to_thread(world.receive, warehouse, sku, 2)
        changes = await asyncio.gather(*(take(s, 1) for s in streams))
        backends = listening_backends(world)
        for s in streams:
            s.cancel()

    assert [c.stock_level.on_hand for (c,) in changes] == [3] * 50
    assert len({c.movement.sequence for (c,) in changes}) == 1
    assert backends == [(pid, APPLICATION_NAME, "idle", "LISTEN stock_ledger")]
    assert metric(world, "stockmesh_watch_ledger_reads_total", reader="hub") == hub_reads + 1
    assert metric(world, "stockmesh_watch_ledger_reads_total", reader="stream") == stream_reads


async def test_a_resumed_subscriber_gets_exactly_the_changes_after_its_cursor_while_writes_go_on(
    pg_quiet_world: World,
) -> None:
    world = pg_quiet_world
    warehouse, skus = world.warehouse(), world.skus(3)
    world.receive(warehouse, skus[0], 100)
    receipts, reservations = 3 * 12, 12
    async with harness.aio_channel(world.stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        first = watch(stub, world, warehouse)
        await first.initial_metadata()
        listening(world)

        def receive(sku: str) -> None:
            for _ in range(12):
                world.receive(warehouse, sku, 1)
                time.sleep(0.01)

        def reserve() -> None:  # the batch path: a statement of its own
            for _ in range(reservations):
                world.reserve([(warehouse, skus[0], 1)])
                time.sleep(0.01)

        writers = [threading.Thread(target=receive, args=(sku,)) for sku in skus]
        writers.append(threading.Thread(target=reserve))
        for writer in writers:
            writer.start()
        seen = await take(first, 10)
        first.cancel()
        resumed = watch(stub, world, warehouse, cursor=seen[-1].cursor)
        missed = await take(resumed, receipts + reservations - 10)
        for writer in writers:
            await asyncio.to_thread(writer.join)
        quiet_after = await nothing_more(resumed)
        resumed.cancel()

    sequences = [m.movement.sequence for m in [*seen, *missed]]
    # Every movement of the tenant after the stream started, each once, in order.
    assert sequences == list(range(sequences[0], sequences[0] + receipts + reservations))
    assert quiet_after
    assert sum(m.movement.type == pb.MOVEMENT_TYPE_RESERVE for m in [*seen, *missed]) == reservations


async def test_a_subscriber_that_falls_behind_gets_every_change_in_order_once_it_reads(
    pg_quiet_world: World,
) -> None:
    world = pg_quiet_world
    warehouse, skus = world.warehouse(), world.skus(20)
    fallbacks = metric(world, "stockmesh_watch_fallbacks_total")
    async with harness.aio_channel(world.stock) as channel:
        stream = watch(stock_pb2_grpc.StockServiceStub(channel), world, warehouse)
        await asyncio.to_thread(world.receive, warehouse, skus[0], 1)
        (live,) = await take(stream, 1)
        # Five receipts of twenty lines, not read: each is handed out in one
        # go, five times what the stream's queue of four holds.
        for quantity in range(1, 6):
            await asyncio.to_thread(receive_lines, world, warehouse, [(sku, quantity) for sku in skus])
        await asyncio.sleep(0.5)
        changes = await take(stream, 100)
        quiet_after = await nothing_more(stream)
        stream.cancel()

    sequences = [c.movement.sequence for c in changes]
    assert sequences == list(range(live.movement.sequence + 1, live.movement.sequence + 101))
    assert [(c.movement.sku, c.movement.quantity_delta) for c in changes] == [
        (sku, quantity) for quantity in range(1, 6) for sku in skus
    ]
    assert quiet_after
    assert metric(world, "stockmesh_watch_fallbacks_total") > fallbacks


async def test_subscribers_get_changes_after_the_listening_connection_is_killed(
    pg_quiet_world: World,
) -> None:
    world = pg_quiet_world
    warehouse, (sku,) = world.warehouse(), world.skus()
    async with harness.aio_channel(world.stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        streams = [watch(stub, world, warehouse) for _ in range(3)]
        await asyncio.gather(*(s.initial_metadata() for s in streams))
        killed = listening(world)
        with psycopg.connect(world.stock.database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (killed,))

        await asyncio.to_thread(world.receive, warehouse, sku, 1)
        during = await asyncio.gather(*(take(s, 1) for s in streams))
        again = listening(world, not_pid=killed)
        await asyncio.to_thread(world.receive, warehouse, sku, 2)
        after = await asyncio.gather(*(take(s, 1, timeout=5) for s in streams))
        for s in streams:
            s.cancel()

    assert [c.stock_level.on_hand for (c,) in during] == [1, 1, 1]
    assert [c.stock_level.on_hand for (c,) in after] == [3, 3, 3]
    assert again != killed


async def test_a_refused_stream_ends_with_its_status_and_no_message(quiet_world: World) -> None:
    unknown = f"warehouses/{uuid.uuid4()}"
    async with harness.aio_channel(quiet_world.stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        outcomes = []
        for parent, cursor in ((unknown, ""), ("warehouses/-", "not-a-cursor")):
            messages: list[pb.WatchStockLevelsResponse] = []
            with pytest.raises(aio.AioRpcError) as info:
                await read_all(watch(stub, quiet_world, parent, cursor), messages)
            outcomes.append((info.value.code(), messages, status.details_of(info.value)))

    (missing, none_1, _), (malformed, none_2, details) = outcomes
    assert (missing, none_1) == (grpc.StatusCode.NOT_FOUND, [])
    assert (malformed, none_2) == (grpc.StatusCode.INVALID_ARGUMENT, [])
    assert details.field_violations.keys() == {"cursor"}


async def test_a_started_stream_sends_its_initial_metadata_before_any_message(quiet_world: World) -> None:
    warehouse, (sku,) = quiet_world.warehouse(), quiet_world.skus()
    async with harness.aio_channel(quiet_world.stock) as channel:
        call = watch(stock_pb2_grpc.StockServiceStub(channel), quiet_world, warehouse)
        started = time.monotonic()
        await asyncio.wait_for(call.initial_metadata(), timeout=3)
        waited = time.monotonic() - started
        await asyncio.to_thread(quiet_world.receive, warehouse, sku, 4)
        (first,) = await take(call, 1)
        call.cancel()

    # No message was due (no change, the heartbeat a minute away), yet the
    # client knew at once that the stream had started.
    assert waited < 3
    assert first.stock_level.on_hand == 4
