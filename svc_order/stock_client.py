"""The stock port over gRPC: svc_stock's reservations and ReturnStock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import grpc
from google.protobuf import duration_pb2

from kit import errors, status
from kit.clients import is_unavailable
from kit.protos import timestamp
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc

T = TypeVar("T")


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    try:
        return await make()
    except grpc.RpcError as exc:
        if is_unavailable(exc):
            raise errors.Unavailable(
                "svc_stock could not be reached; no stock is held for this request",
                reason="STOCK_UNAVAILABLE",
            ) from exc
        raise status.error_of(exc) from exc


class StockClient:
    """Called with the end user's token (forwarded by kit.clients), so it acts in their tenant."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.reservations = stock_pb2_grpc.ReservationServiceStub(channel)
        self.levels = stock_pb2_grpc.StockServiceStub(channel)

    async def reserve(
        self,
        request_id: str,
        reference: str,
        warehouse_id: str,
        lines: Sequence[tuple[str, int]],
        ttl: timedelta,
    ) -> str:
        lease = duration_pb2.Duration()
        lease.FromTimedelta(ttl)
        request = pb.CreateReservationRequest(
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
        reply = await _call(lambda: self.reservations.CreateReservation(request))
        return reply.reservation.name.removeprefix("reservations/")

    async def extend(self, request_id: str, reservation_id: str, expire_at: datetime) -> None:
        request = pb.ExtendReservationRequest(
            request_id=request_id, name=f"reservations/{reservation_id}", expire_time=timestamp(expire_at)
        )
        await _call(lambda: self.reservations.ExtendReservation(request))

    async def release(self, request_id: str, reservation_id: str) -> None:
        request = pb.ReleaseReservationRequest(request_id=request_id, name=f"reservations/{reservation_id}")
        await _call(lambda: self.reservations.ReleaseReservation(request))

    async def commit(self, request_id: str, reservation_id: str, shipped_at: datetime | None) -> None:
        request = pb.CommitReservationRequest(
            request_id=request_id, name=f"reservations/{reservation_id}", ship_time=timestamp(shipped_at)
        )
        await _call(lambda: self.reservations.CommitReservation(request))

    async def return_stock(
        self, request_id: str, reference: str, warehouse_id: str, lines: Sequence[tuple[str, int]], note: str
    ) -> list[str]:
        request = pb.ReturnStockRequest(
            request_id=request_id,
            warehouse=f"warehouses/{warehouse_id}",
            lines=[pb.StockLine(sku=sku, quantity=quantity) for sku, quantity in lines],
            reference=reference,
            note=note,
        )
        reply = await _call(lambda: self.levels.ReturnStock(request))
        return [m.name for m in reply.movements]
