"""svc_order's calls to svc_stock under the mesh's client policy, with a
fault injector between them: lost and late answers and reset connections are
retried (the VirtualService's retries and per-try timeout) and the stock is
reserved exactly once; a failing svc_stock opens the circuit (the
DestinationRule's outlier detection), so callers fail without calling, and
it closes by itself once svc_stock is healthy again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.conftest import Stacks
from tests.harness import refused
from tests.integration.order.conftest import BACKEND, Shop, order_stack, shop_of
from tests.integration.stock.conftest import stock_stack
from tests.support.fault_proxy import GrpcFaultProxy, TcpResetProxy
from tests.support.mesh_policy import Document, edited_policy, of_kind

RESERVE = "/stockmesh.stock.v1.ReservationService/CreateReservation"


@pytest.fixture(scope="module")
def lossy(stacks: Stacks) -> Iterator[GrpcFaultProxy]:
    """A fault injector in front of svc_stock, presenting svc_order's identity."""
    stock = stock_stack(stacks, BACKEND)
    proxy = GrpcFaultProxy(stock.address, stacks.tls_dir, stock.account, "svc-order")
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
def lossy_shop(stacks: Stacks, lossy: GrpcFaultProxy) -> Iterator[Shop]:
    lossy.heal()
    order = order_stack(stacks, variant="-lossy", STOCKMESH_STOCK_ADDR=lossy.address)
    yield from shop_of(order, stacks)


def test_a_reservation_whose_answer_is_lost_is_retried_and_held_once(
    lossy_shop: Shop, lossy: GrpcFaultProxy
) -> None:
    warehouse, (sku,) = lossy_shop.stocked(1, 10)
    before = lossy.forwarded.get(RESERVE, 0)
    lossy.drop_responses(1, method=RESERVE)

    lossy_shop.create(warehouse, [(sku, 3)])

    assert lossy.forwarded[RESERVE] - before == 2  # both tries reached svc_stock
    assert lossy_shop.level(warehouse, sku).reserved == 3


def test_a_reservation_answered_past_the_per_try_timeout_is_retried_and_held_once(
    lossy_shop: Shop, lossy: GrpcFaultProxy
) -> None:
    warehouse, (sku,) = lossy_shop.stocked(1, 10)
    before = lossy.forwarded.get(RESERVE, 0)
    lossy.delay_responses(1, 3.0, method=RESERVE)  # svc-stock's per-try timeout is 2 s

    lossy_shop.create(warehouse, [(sku, 4)])

    assert lossy.forwarded[RESERVE] - before == 2
    assert lossy_shop.level(warehouse, sku).reserved == 4


def test_a_reset_connection_is_retried(stacks: Stacks) -> None:
    stock = stock_stack(stacks, BACKEND)
    host, port = stock.address.rsplit(":", 1)
    resets = TcpResetProxy(host, int(port))
    resets.start()
    try:
        resets.reset_connections(1)
        shops = shop_of(order_stack(stacks, variant="-resets", STOCKMESH_STOCK_ADDR=resets.address), stacks)
        shop = next(shops)
        warehouse, (sku,) = shop.stocked(1, 10)

        shop.create(warehouse, [(sku, 2)])

        assert resets.resets == 1
        assert shop.level(warehouse, sku).reserved == 2
        shops.close()
    finally:
        resets.close()


def quick_breaker(documents: list[Document]) -> None:
    """Three faults in a row eject svc_stock for one second."""
    outlier = of_kind(documents, "DestinationRule")["spec"]["trafficPolicy"]["outlierDetection"]
    outlier.update(consecutive5xxErrors=3, baseEjectionTime="1s", interval="1s")


def test_a_failing_stock_opens_the_circuit_and_it_closes_once_healthy(stacks: Stacks, tmp_path: Path) -> None:
    stock = stock_stack(stacks, BACKEND)
    failing = GrpcFaultProxy(stock.address, stacks.tls_dir, stock.account, "svc-order")
    failing.start()
    policy = edited_policy(tmp_path, "services/svc-stock.yaml", quick_breaker)
    order = order_stack(
        stacks, variant="-breaker", STOCKMESH_STOCK_ADDR=failing.address, STOCKMESH_MESH_DIR=str(policy)
    )
    shops = shop_of(order, stacks)
    shop = next(shops)
    try:
        warehouse, (sku,) = shop.stocked(1, 10)
        failing.fail(None, grpc.StatusCode.UNAVAILABLE)

        first = refused(shop.create, warehouse, [(sku, 1)])
        assert (first.code, first.reason) == (grpc.StatusCode.UNAVAILABLE, "STOCK_UNAVAILABLE")
        seen = failing.totals["calls"]

        fast = refused(shop.create, warehouse, [(sku, 1)])
        assert (fast.code, fast.reason) == (grpc.StatusCode.UNAVAILABLE, "STOCK_UNAVAILABLE")
        assert "circuit open" in fast.message
        assert failing.totals["calls"] == seen  # failed without calling svc_stock

        failing.heal()
        time.sleep(1.2)  # the ejection ends
        shop.create(warehouse, [(sku, 1)])
        assert shop.level(warehouse, sku).reserved == 1
    finally:
        shops.close()
        failing.close()
