"""Stock held by lapsed holds is free to every writer at once: concurrent
clients of two svc_stock processes sharing one PostgreSQL database are
granted all of it, whoever sweeps the holds (stock.proto: any write after
expire_time sees the hold EXPIRED and its stock free)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import grpc
import pytest
from grpc import aio

from kit import status
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from tests import harness
from tests.conftest import Stacks, new_id
from tests.integration.stock.conftest import World, stock_stack, world_of

HOLD_SECONDS = 10  # the shortest hold the contract allows


@pytest.fixture(scope="module")
def twins(stacks: Stacks) -> tuple[harness.ServiceProcess, harness.ServiceProcess]:
    """Two svc_stock processes on one database, their expiry sweepers idle:
    only the reservations themselves can free lapsed stock."""
    first = stock_stack(stacks, "postgresql", variant="-twin", STOCKMESH_STOCK_SWEEP_SECONDS="3600")
    second = harness.ServiceProcess(
        "stock", stacks.factory.mktemp("stock-twin-2"), first.tls_dir, first.database_url, env=dict(first.env)
    )
    stacks.cleanups.callback(second.stop)
    return first, second.start(migrate=False)


@pytest.fixture
def twin_world(
    twins: tuple[harness.ServiceProcess, harness.ServiceProcess], stacks: Stacks
) -> Iterator[World]:
    yield from world_of(twins[0], stacks, "postgresql")


async def reserve_one(channel: aio.Channel, world: World, warehouse: str, sku: str) -> str:
    """ "granted", or the refusal's reason and the description of each violation."""
    stub = stock_pb2_grpc.ReservationServiceStub(channel)
    request = pb.CreateReservationRequest(
        request_id=new_id(),
        reservation=pb.Reservation(
            reference="orders/after-lapse",
            lines=[pb.ReservationLine(warehouse=warehouse, sku=sku, quantity=1)],
        ),
    )
    try:
        await stub.CreateReservation(request, metadata=world.as_role(), timeout=30)
    except grpc.RpcError as exc:
        details = status.details_of(exc)
        return f"{details.reason}: " + "; ".join(v.description for v in details.precondition_violations)
    return "granted"


async def test_lapsed_holds_are_all_granted_again_to_concurrent_clients_of_two_processes(
    twins: tuple[harness.ServiceProcess, harness.ServiceProcess], twin_world: World
) -> None:
    world = twin_world
    warehouse, (sku,) = world.warehouse(), world.skus()
    world.receive(warehouse, sku, 20)
    holds = [world.reserve([(warehouse, sku, 1)], ttl_seconds=HOLD_SECONDS) for _ in range(20)]
    lapse = holds[-1].reservation.expire_time.ToDatetime().timestamp() - time.time()
    await asyncio.sleep(max(lapse, 0) + 0.5)
    before = world.level(warehouse, sku)

    async with harness.aio_channel(twins[0]) as one, harness.aio_channel(twins[1]) as two:
        outcomes = await asyncio.gather(
            *(reserve_one(one if i % 2 else two, world, warehouse, sku) for i in range(60))
        )

    assert (before.reserved, before.available) == (0, 20)  # read as free before any sweep
    assert Counter(outcomes) == {
        "granted": 20,
        "INSUFFICIENT_STOCK: requested 1, available 0": 40,
    }
    level = world.level(warehouse, sku)
    assert (level.on_hand, level.reserved, level.available) == (20, 20, 0)
    drifts = world.levels.ReconcileStockLevels(
        pb.ReconcileStockLevelsRequest(parent="warehouses/-"), metadata=world.as_role(), timeout=30
    ).drifts
    assert list(drifts) == []
    states = {
        world.reservations.GetReservation(
            pb.GetReservationRequest(name=h.reservation.name), metadata=world.as_role(), timeout=10
        ).reservation.state
        for h in holds
    }
    assert states == {pb.RESERVATION_STATE_EXPIRED}
    expired = world.levels.ListMovements(
        pb.ListMovementsRequest(warehouse=warehouse, sku=sku, types=[pb.MOVEMENT_TYPE_EXPIRE], page_size=100),
        metadata=world.as_role(),
        timeout=10,
    ).movements
    assert len(expired) == 20  # each lapsed hold swept exactly once
