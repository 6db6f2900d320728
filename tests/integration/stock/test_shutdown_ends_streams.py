"""SIGTERM ends the live streams at once, telling their clients to reconnect,
instead of holding the shutdown for the whole grace period."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc import aio

from kit import status
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from tests import harness
from tests.conftest import Stacks
from tests.integration.stock.conftest import stock_stack, world_of

GRACE_SECONDS = 60


async def ending(stream: aio.UnaryStreamCall) -> aio.AioRpcError:  # type: ignore[type-arg]
    """Read `stream` to its end, which must be an error."""
    try:
        async for _ in stream:
            pass
    except aio.AioRpcError as exc:
        return exc
    raise AssertionError("the stream ended with OK")


@pytest.fixture
def watched(stacks: Stacks) -> Iterator[tuple[harness.ServiceProcess, str, list[tuple[str, str]]]]:
    """A svc_stock of its own (it is stopped), a warehouse and an admin's token."""
    stock = stock_stack(stacks, "sqlite", variant="-stopping", STOCKMESH_GRACE_SECONDS=str(GRACE_SECONDS))
    for world in world_of(stock, stacks, "sqlite"):
        yield stock, world.warehouse(), world.as_role()


async def test_sigterm_ends_open_streams_with_unavailable_and_the_process_exits_long_before_the_grace(
    watched: tuple[harness.ServiceProcess, str, list[tuple[str, str]]],
) -> None:
    stock, warehouse, token = watched
    async with harness.aio_channel(stock) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        streams = [
            stub.WatchStockLevels(pb.WatchStockLevelsRequest(parent=warehouse), metadata=token)
            for _ in range(3)
        ]
        for stream in streams:
            await stream.wait_for_connection()
        endings = [asyncio.create_task(ending(stream)) for stream in streams]

        started = time.monotonic()
        exit_code = await asyncio.to_thread(stock.stop, GRACE_SECONDS + 10)
        stopped_after = time.monotonic() - started

        for ended in await asyncio.gather(*endings):
            assert ended.code() == grpc.StatusCode.UNAVAILABLE
            assert status.details_of(ended).reason == "SERVER_SHUTTING_DOWN"
    assert exit_code == 0
    assert stopped_after < GRACE_SECONDS / 2, "open streams held the shutdown for the grace period"
