"""The stock ledger over gRPC: svc_stock's WarehouseService and StockService,
called with the end user's token (forwarded by kit.clients)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import grpc

from kit import errors, protos
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_procure.stock import Demand, LowLevel

BATCH = 500


def _unavailable(exc: grpc.RpcError) -> errors.ServiceError:
    code = exc.code() if hasattr(exc, "code") else None
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return errors.PermissionDenied("svc_stock refused this caller", reason="STOCK_PERMISSION_DENIED")
    return errors.Unavailable("svc_stock could not be reached", reason="STOCK_UNAVAILABLE")


class StockClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.warehouses = stock_pb2_grpc.WarehouseServiceStub(channel)
        self.levels = stock_pb2_grpc.StockServiceStub(channel)

    async def warehouse_active(self, warehouse_id: str) -> bool | None:
        try:
            reply = await self.warehouses.GetWarehouse(
                pb.GetWarehouseRequest(name=f"warehouses/{warehouse_id}")
            )
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise _unavailable(exc) from exc
        return bool(reply.warehouse.status == pb.WAREHOUSE_STATUS_ACTIVE)

    async def low_levels(self, warehouse_id: str) -> list[LowLevel]:
        out: list[LowLevel] = []
        token = ""
        while True:
            try:
                reply = await self.levels.ListLowStock(
                    pb.ListLowStockRequest(
                        parent=f"warehouses/{warehouse_id}", page_size=1000, page_token=token
                    )
                )
            except grpc.RpcError as exc:
                raise _unavailable(exc) from exc
            out += [
                LowLevel(lv.sku, lv.on_hand, lv.reserved, lv.available, lv.reorder_point, lv.reorder_quantity)
                for lv in reply.stock_levels
            ]
            token = reply.next_page_token
            if not token:
                return out

    async def demand(self, warehouse_id: str, skus: Sequence[str], start: datetime) -> dict[str, Demand]:
        out: dict[str, Demand] = {}
        wanted = list(skus)
        for first in range(0, len(wanted), BATCH):
            request = pb.SummarizeDemandRequest(
                warehouse=f"warehouses/{warehouse_id}",
                start_time=protos.timestamp(start),
                skus=wanted[first : first + BATCH],
                page_size=1000,
            )
            try:
                reply = await self.levels.SummarizeDemand(request)
            except grpc.RpcError as exc:
                raise _unavailable(exc) from exc
            out |= {s.sku: Demand(s.shipped_quantity, s.returned_quantity) for s in reply.summaries}
        return out

    async def receive(
        self,
        request_id: str,
        warehouse_id: str,
        lines: Sequence[tuple[str, int]],
        reference: str,
    ) -> list[str]:
        request = pb.ReceiveStockRequest(
            request_id=request_id,
            warehouse=f"warehouses/{warehouse_id}",
            lines=[pb.StockLine(sku=sku, quantity=qty) for sku, qty in lines],
            reference=reference,
        )
        try:
            reply = await self.levels.ReceiveStock(request)
        except grpc.RpcError as exc:
            raise _unavailable(exc) from exc
        return [m.name for m in reply.movements]
