"""The stock client's reads for replenishment against a real gRPC server
standing in for svc_stock: low levels page by page, levels of named SKUs,
and demand asked in requests of at most 500 SKUs, following page tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from grpc import aio

from clients.stock import Demand, LowLevel
from clients.stock.client import DEMAND_SKUS, PAGE_SIZE, StockClient
from stockmesh.stock.v1 import stock_pb2, stock_pb2_grpc
from tests.support.loopback import serving

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def level(sku: str, available: int, point: int = 5) -> stock_pb2.StockLevel:
    return stock_pb2.StockLevel(
        sku=sku,
        on_hand=available + 1,
        reserved=1,
        available=available,
        reorder_point=point,
        reorder_quantity=2,
        low_stock=available <= point,
    )


class StockStandIn(stock_pb2_grpc.StockServiceServicer):
    """Answers from `levels` (by SKU) in pages of at most `page` levels, and
    demand of 3 shipped, 1 returned per SKU in pages of at most `page`."""

    def __init__(self, levels: list[stock_pb2.StockLevel], page: int = PAGE_SIZE) -> None:
        self.levels = levels
        self.page = page
        self.asked: list[tuple[str, Any]] = []

    def _page(self, items: list[Any], token: str, size: int) -> tuple[list[Any], str]:
        first = int(token or 0)
        last = first + min(size, self.page)
        return items[first:last], str(last) if last < len(items) else ""

    async def ListLowStock(
        self, request: stock_pb2.ListLowStockRequest, context: Any
    ) -> stock_pb2.ListLowStockResponse:
        self.asked.append(("low", (request.page_size, request.page_token)))
        low = [lv for lv in self.levels if lv.low_stock]
        page, token = self._page(low, request.page_token, request.page_size)
        return stock_pb2.ListLowStockResponse(stock_levels=page, next_page_token=token)

    async def ListStockLevels(
        self, request: stock_pb2.ListStockLevelsRequest, context: Any
    ) -> stock_pb2.ListStockLevelsResponse:
        self.asked.append(("levels", list(request.skus)))
        found = [lv for lv in self.levels if lv.sku in request.skus]
        page, token = self._page(found, request.page_token, request.page_size)
        return stock_pb2.ListStockLevelsResponse(stock_levels=page, next_page_token=token)

    async def SummarizeDemand(
        self, request: stock_pb2.SummarizeDemandRequest, context: Any
    ) -> stock_pb2.SummarizeDemandResponse:
        assert len(request.skus) <= DEMAND_SKUS  # svc_stock refuses more
        self.asked.append(("demand", (len(request.skus), request.page_token)))
        summaries = [
            stock_pb2.DemandSummary(sku=sku, shipped_quantity=3, returned_quantity=1)
            for sku in sorted(request.skus)
        ]
        page, token = self._page(summaries, request.page_token, request.page_size)
        return stock_pb2.SummarizeDemandResponse(summaries=page, next_page_token=token)


async def client_of(stand_in: StockStandIn) -> AsyncIterator[StockClient]:
    def register(server: aio.Server) -> None:
        stock_pb2_grpc.add_StockServiceServicer_to_server(stand_in, server)

    async with serving(register) as channels:
        yield StockClient(channels.get("stock"))


@pytest.fixture
async def stock() -> AsyncIterator[tuple[StockStandIn, StockClient]]:
    levels = [level(f"SKU-{n:04d}", available=n % 3 * 5) for n in range(3600)]  # one in three is high
    stand_in = StockStandIn(levels)  # type: ignore[abstract]  # answers only what clients ask
    async for client in client_of(stand_in):
        yield stand_in, client


async def test_low_levels_come_a_page_of_1000_at_a_time(stock: tuple[StockStandIn, StockClient]) -> None:
    stand_in, client = stock

    pages = [page async for page in client.low_level_pages("w1")]

    assert [len(p) for p in pages] == [1000, 1000, 400]
    assert pages[0][0] == LowLevel("SKU-0000", 1, 1, 0, 5, 2)
    assert [lv.sku for p in pages for lv in p] == [f"SKU-{n:04d}" for n in range(3600) if n % 3 != 2]
    assert stand_in.asked == [("low", (1000, "")), ("low", (1000, "1000")), ("low", (1000, "2000"))]


async def test_a_warehouse_with_nothing_low_is_one_empty_page() -> None:
    stand_in = StockStandIn([level("A", available=9)])  # type: ignore[abstract]
    async for client in client_of(stand_in):
        assert [page async for page in client.low_level_pages("w1")] == [[]]


async def test_levels_of_named_skus_keep_only_the_low_ones(stock: tuple[StockStandIn, StockClient]) -> None:
    stand_in, client = stock

    found = await client.low_levels_of("w1", ["SKU-0002", "SKU-0001", "SKU-0001", "NOPE"])

    assert [lv.sku for lv in found] == ["SKU-0001"]  # SKU-0002 is not low
    assert stand_in.asked == [("levels", ["SKU-0002", "SKU-0001", "NOPE"])]


async def test_demand_is_asked_500_skus_at_a_time() -> None:
    stand_in = StockStandIn([])  # type: ignore[abstract]
    skus = [f"SKU-{n:04d}" for n in range(1200)]
    async for client in client_of(stand_in):
        found = await client.demand("w1", [*skus, skus[0]], NOW)

    assert found == {sku: Demand(3, 1) for sku in skus}
    assert sorted(stand_in.asked) == [("demand", (200, "")), ("demand", (500, "")), ("demand", (500, ""))]


async def test_demand_follows_page_tokens() -> None:
    stand_in = StockStandIn([], page=150)  # type: ignore[abstract]  # a server paging smaller
    skus = [f"SKU-{n:04d}" for n in range(400)]
    async for client in client_of(stand_in):
        found = await client.demand("w1", skus, NOW)

    assert found == {sku: Demand(3, 1) for sku in skus}
    assert stand_in.asked == [("demand", (400, "")), ("demand", (400, "150")), ("demand", (400, "300"))]
