"""svc_stock over gRPC: warehouses, levels, demand, receipts, returns and
reservations, called with the end user's token (forwarded by kit.clients), so
it acts in their tenant. Every mutating call carries the caller's request_id,
so a retry never takes effect twice. Refusals (e.g. FailedPrecondition
INSUFFICIENT_STOCK naming the short lines) and failures arrive as kit errors
(kit.neighbours)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import grpc
from google.protobuf import duration_pb2

from clients.stock.types import Demand, LowLevel
from kit import errors
from kit.protos import timestamp
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc

PAGE_SIZE = 1000  # the most levels or summaries svc_stock sends in one page
DEMAND_SKUS = 500  # the most SKUs one SummarizeDemand request may name


def _lines(lines: Sequence[tuple[str, int]]) -> list[pb.StockLine]:
    return [pb.StockLine(sku=sku, quantity=quantity) for sku, quantity in lines]


def _low_level(lv: pb.StockLevel) -> LowLevel:
    return LowLevel(lv.sku, lv.on_hand, lv.reserved, lv.available, lv.reorder_point, lv.reorder_quantity)


class StockClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.warehouses = stock_pb2_grpc.WarehouseServiceStub(channel)
        self.levels = stock_pb2_grpc.StockServiceStub(channel)
        self.reservations = stock_pb2_grpc.ReservationServiceStub(channel)

    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        """True if active, False if archived, None if the caller's tenant has no such warehouse."""
        try:
            reply = await self.warehouses.GetWarehouse(
                pb.GetWarehouseRequest(name=f"warehouses/{warehouse_id}")
            )
        except (errors.NotFound, errors.InvalidArgument):
            return None  # a malformed id names no warehouse either: an answer, not an error
        return bool(reply.warehouse.status == pb.WAREHOUSE_STATUS_ACTIVE)

    async def low_level_pages(self, warehouse_id: str) -> AsyncIterator[list[LowLevel]]:
        """The warehouse's levels at or below their reorder point, by SKU, one
        page (at most PAGE_SIZE) at a time: a caller holds a page, never the
        whole warehouse."""
        token = ""
        while True:
            reply = await self.levels.ListLowStock(
                pb.ListLowStockRequest(
                    parent=f"warehouses/{warehouse_id}", page_size=PAGE_SIZE, page_token=token
                )
            )
            yield [_low_level(lv) for lv in reply.stock_levels]
            token = reply.next_page_token
            if not token:
                return

    async def low_levels_of(self, warehouse_id: str, skus: Sequence[str]) -> list[LowLevel]:
        """The levels of these SKUs (at most 500) at or below their reorder
        point. ListLowStock has no SKU filter; ListStockLevels has, and its
        `low_stock` is ListLowStock's very test."""
        out: list[LowLevel] = []
        token = ""
        while True:
            reply = await self.levels.ListStockLevels(
                pb.ListStockLevelsRequest(
                    parent=f"warehouses/{warehouse_id}",
                    page_size=PAGE_SIZE,
                    page_token=token,
                    skus=list(dict.fromkeys(skus)),
                )
            )
            out += [_low_level(lv) for lv in reply.stock_levels if lv.low_stock]
            token = reply.next_page_token
            if not token:
                return out

    async def demand(self, warehouse_id: str, skus: Sequence[str], start: datetime) -> dict[str, Demand]:
        """Shipped and returned per SKU since `start`: DEMAND_SKUS per request,
        the requests in flight together."""
        wanted = list(dict.fromkeys(skus))
        chunks = [wanted[first : first + DEMAND_SKUS] for first in range(0, len(wanted), DEMAND_SKUS)]
        out: dict[str, Demand] = {}
        for summed in await asyncio.gather(*(self._demand(warehouse_id, chunk, start) for chunk in chunks)):
            out |= summed
        return out

    async def _demand(self, warehouse_id: str, skus: list[str], start: datetime) -> dict[str, Demand]:
        out: dict[str, Demand] = {}
        token = ""
        while True:  # one page holds a request's SKUs; follow the token all the same
            reply = await self.levels.SummarizeDemand(
                pb.SummarizeDemandRequest(
                    warehouse=f"warehouses/{warehouse_id}",
                    start_time=timestamp(start),
                    skus=skus,
                    page_size=PAGE_SIZE,
                    page_token=token,
                )
            )
            out |= {s.sku: Demand(s.shipped_quantity, s.returned_quantity) for s in reply.summaries}
            token = reply.next_page_token
            if not token:
                return out

    async def receive(
        self, request_id: str, warehouse_id: str, lines: Sequence[tuple[str, int]], reference: str
    ) -> list[str]:
        """Books a receipt; the movement names."""
        reply = await self.levels.ReceiveStock(
            pb.ReceiveStockRequest(
                request_id=request_id,
                warehouse=f"warehouses/{warehouse_id}",
                lines=_lines(lines),
                reference=reference,
            )
        )
        return [m.name for m in reply.movements]

    async def return_stock(
        self, request_id: str, reference: str, warehouse_id: str, lines: Sequence[tuple[str, int]], note: str
    ) -> list[str]:
        """Books the lines back in; the movement names."""
        reply = await self.levels.ReturnStock(
            pb.ReturnStockRequest(
                request_id=request_id,
                warehouse=f"warehouses/{warehouse_id}",
                lines=_lines(lines),
                reference=reference,
                note=note,
            )
        )
        return [m.name for m in reply.movements]

    async def reserve(
        self,
        request_id: str,
        reference: str,
        warehouse_id: str,
        lines: Sequence[tuple[str, int]],
        ttl: timedelta,
    ) -> str:
        """Holds every line or none for `ttl`; the reservation id."""
        lease = duration_pb2.Duration()
        lease.FromTimedelta(ttl)
        reply = await self.reservations.CreateReservation(
            pb.CreateReservationRequest(
                request_id=request_id,
                reservation=pb.Reservation(
                    reference=reference,
                    lines=[
                        pb.ReservationLine(sku=sku, warehouse=f"warehouses/{warehouse_id}", quantity=quantity)
                        for sku, quantity in lines
                    ],
                    ttl=lease,
                ),
            )
        )
        return str(reply.reservation.name.removeprefix("reservations/"))

    async def extend(self, request_id: str, reservation_id: str, expire_at: datetime) -> None:
        await self.reservations.ExtendReservation(
            pb.ExtendReservationRequest(
                request_id=request_id, name=f"reservations/{reservation_id}", expire_time=timestamp(expire_at)
            )
        )

    async def release(self, request_id: str, reservation_id: str) -> None:
        await self.reservations.ReleaseReservation(
            pb.ReleaseReservationRequest(request_id=request_id, name=f"reservations/{reservation_id}")
        )

    async def commit(self, request_id: str, reservation_id: str, shipped_at: datetime | None) -> None:
        await self.reservations.CommitReservation(
            pb.CommitReservationRequest(
                request_id=request_id, name=f"reservations/{reservation_id}", ship_time=timestamp(shipped_at)
            )
        )
