"""The invariants under real concurrency on PostgreSQL: many clients at once,
over gRPC, never oversell, never deadlock-fail, never book a retry twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio

from kit import status
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from tests import harness
from tests.conftest import new_id
from tests.integration.stock.conftest import World


@pytest.fixture
async def channel(pg_world: World) -> AsyncIterator[aio.Channel]:
    async with harness.aio_channel(pg_world.stock) as ch:
        yield ch


async def reserve(
    channel: aio.Channel, world: World, lines: list[tuple[str, str, int]], request_id: str | None = None
) -> str:
    """The outcome: "granted", or the refusal's reason."""
    stub = stock_pb2_grpc.ReservationServiceStub(channel)
    request = pb.CreateReservationRequest(
        request_id=request_id or new_id(),
        reservation=pb.Reservation(
            reference="orders/load",
            lines=[pb.ReservationLine(warehouse=w, sku=s, quantity=q) for w, s, q in lines],
        ),
    )
    try:
        response = await stub.CreateReservation(request, metadata=world.as_role(), timeout=30)
    except grpc.RpcError as exc:
        return status.details_of(exc).reason or str(exc.code())  # type: ignore[attr-defined]
    return f"granted:{response.reservation.name}"


def reconcile(world: World) -> pb.ReconcileStockLevelsResponse:
    response: pb.ReconcileStockLevelsResponse = world.levels.ReconcileStockLevels(
        pb.ReconcileStockLevelsRequest(parent="warehouses/-"), metadata=world.as_role(), timeout=30
    )
    return response


async def test_sixty_clients_on_one_sku_are_granted_exactly_what_is_available(
    pg_world: World, channel: aio.Channel
) -> None:
    warehouse, (sku,) = pg_world.warehouse(), pg_world.skus()
    pg_world.receive(warehouse, sku, 30)
    pg_world.as_role()

    outcomes = await asyncio.gather(*(reserve(channel, pg_world, [(warehouse, sku, 1)]) for _ in range(60)))

    results = Counter(o.split(":")[0] for o in outcomes)
    assert results == {"granted": 30, "INSUFFICIENT_STOCK": 30}
    level = pg_world.level(warehouse, sku)
    assert (level.on_hand, level.reserved, level.available) == (30, 30, 0)
    assert list(reconcile(pg_world).drifts) == []


async def test_overlapping_multi_line_reservations_never_deadlock_or_oversell(
    pg_world: World, channel: aio.Channel
) -> None:
    warehouse = pg_world.warehouse()
    skus = pg_world.skus(5)
    for sku in skus:
        pg_world.receive(warehouse, sku, 20)
    rng = random.Random(7)
    requests = [
        [(warehouse, sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(2, 4))]
        for _ in range(60)
    ]

    outcomes = await asyncio.gather(*(reserve(channel, pg_world, lines) for lines in requests))

    assert {o.split(":")[0] for o in outcomes} <= {"granted", "INSUFFICIENT_STOCK"}
    granted = Counter[str]()
    for lines, outcome in zip(requests, outcomes, strict=True):
        if outcome.startswith("granted"):
            granted.update({sku: quantity for _, sku, quantity in lines})
    for sku in skus:
        level = pg_world.level(warehouse, sku)
        assert level.reserved == granted[sku] <= 20
    assert list(reconcile(pg_world).drifts) == []


async def test_a_retry_after_a_lost_response_never_takes_effect_twice(
    pg_world: World, channel: aio.Channel
) -> None:
    warehouse, (sku,) = pg_world.warehouse(), pg_world.skus()
    pg_world.receive(warehouse, sku, 10)
    request_id = new_id()

    concurrent = await asyncio.gather(
        *(reserve(channel, pg_world, [(warehouse, sku, 3)], request_id) for _ in range(12))
    )
    later = await reserve(channel, pg_world, [(warehouse, sku, 3)], request_id)

    assert len(set(concurrent)) == 1
    assert later == concurrent[0]
    assert later.startswith("granted")
    assert pg_world.level(warehouse, sku).reserved == 3


async def test_concurrent_mixed_work_keeps_on_hand_equal_to_its_ledger(
    pg_world: World, channel: aio.Channel
) -> None:
    a, b = pg_world.warehouse(), pg_world.warehouse()
    skus = pg_world.skus(3)
    for sku in skus:
        pg_world.receive(a, sku, 50)
    stub = stock_pb2_grpc.StockServiceStub(channel)
    admin = pg_world.as_role()
    rng = random.Random(11)

    refusals: list[str] = []

    async def work(i: int) -> None:
        sku = rng.choice(skus)
        source, destination = (a, b) if i % 2 else (b, a)
        try:
            if i % 3 == 0:
                await stub.TransferStock(
                    pb.TransferStockRequest(
                        request_id=new_id(),
                        source_warehouse=source,
                        destination_warehouse=destination,
                        lines=[pb.StockLine(sku=sku, quantity=rng.randint(1, 5))],
                    ),
                    metadata=admin,
                    timeout=30,
                )
            elif i % 3 == 1:
                await stub.AdjustStock(
                    pb.AdjustStockRequest(
                        request_id=new_id(),
                        warehouse=source,
                        lines=[
                            pb.AdjustmentLine(
                                sku=sku,
                                quantity_delta=rng.choice([-2, 3]),
                                reason=pb.ADJUSTMENT_REASON_CORRECTION,
                            )
                        ],
                    ),
                    metadata=admin,
                    timeout=30,
                )
            else:
                await reserve(channel, pg_world, [(source, sku, rng.randint(1, 4))])
        except grpc.RpcError as exc:
            refusals.append(status.details_of(exc).reason)

    await asyncio.gather(*(work(i) for i in range(90)))

    assert set(refusals) <= {"INSUFFICIENT_STOCK"}
    report = reconcile(pg_world)
    assert report.checked_level_count >= 3
    assert list(report.drifts) == []
