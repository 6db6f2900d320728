"""The StockService servicer: levels, stock changes, the ledger, demand,
reconciliation and the live stream of level changes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from kit import auth, protos
from kit.errors import FieldViolation, InvalidArgument
from kit.rpc import Context
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_stock import commands, convert
from svc_stock.service.common import levels, movements, origin
from svc_stock.usecases.levels import Levels
from svc_stock.usecases.movements import Movements
from svc_stock.usecases.stock import Stock
from svc_stock.usecases.watch import EventType, Watcher, WatchQuery


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    def __init__(self, levels: Levels, stock: Stock, movements: Movements, watcher: Watcher) -> None:
        self.levels = levels
        self.stock = stock
        self.movements = movements
        self.watcher = watcher

    async def GetStockLevel(
        self, request: pb.GetStockLevelRequest, context: Context
    ) -> pb.GetStockLevelResponse:
        warehouse_id, sku = convert.level_key(request.name)
        found = await self.levels.get_level(auth.principal(), warehouse_id, sku)
        return pb.GetStockLevelResponse(stock_level=convert.level(found))

    async def ListStockLevels(
        self, request: pb.ListStockLevelsRequest, context: Context
    ) -> pb.ListStockLevelsResponse:
        query = commands.ListLevels(
            convert.parent(request.parent), tuple(request.skus), request.page_size, request.page_token
        )
        page = await self.levels.list_levels(auth.principal(), query)
        return pb.ListStockLevelsResponse(
            stock_levels=[convert.level(v) for v in page.items], next_page_token=page.next_page_token
        )

    async def ListLowStock(
        self, request: pb.ListLowStockRequest, context: Context
    ) -> pb.ListLowStockResponse:
        query = commands.ListLevels(
            convert.parent(request.parent), (), request.page_size, request.page_token, low_only=True
        )
        page = await self.levels.list_levels(auth.principal(), query)
        return pb.ListLowStockResponse(
            stock_levels=[convert.level(v) for v in page.items], next_page_token=page.next_page_token
        )

    async def SetReorderPolicy(
        self, request: pb.SetReorderPolicyRequest, context: Context
    ) -> pb.SetReorderPolicyResponse:
        warehouse_id, sku = convert.level_key(request.name)
        cmd = commands.SetReorderPolicy(
            warehouse_id, sku, request.reorder_point, request.reorder_quantity, request.etag
        )
        level = await self.levels.set_reorder_policy(auth.principal(), request.request_id, cmd)
        return pb.SetReorderPolicyResponse(stock_level=convert.level(level))

    async def ReceiveStock(
        self, request: pb.ReceiveStockRequest, context: Context
    ) -> pb.ReceiveStockResponse:
        cmd = commands.Receive(
            convert.warehouse_id(request.warehouse, "warehouse"),
            convert.stock_lines(list(request.lines)),
            request.reference,
            request.note,
        )
        outcome = await self.stock.receive(auth.principal(), origin(request.request_id), cmd)
        return pb.ReceiveStockResponse(movements=movements(outcome), stock_levels=levels(outcome))

    async def AdjustStock(self, request: pb.AdjustStockRequest, context: Context) -> pb.AdjustStockResponse:
        cmd = commands.Adjust(
            convert.warehouse_id(request.warehouse, "warehouse"),
            convert.adjustment_lines(list(request.lines)),
            request.reference,
        )
        outcome = await self.stock.adjust(auth.principal(), origin(request.request_id), cmd)
        return pb.AdjustStockResponse(movements=movements(outcome), stock_levels=levels(outcome))

    async def RecordCycleCount(
        self, request: pb.RecordCycleCountRequest, context: Context
    ) -> pb.RecordCycleCountResponse:
        cmd = commands.Count(
            convert.warehouse_id(request.warehouse, "warehouse"),
            tuple(commands.CountLine(line.sku, line.counted_quantity) for line in request.lines),
            request.reference,
            request.note,
        )
        outcome = await self.stock.count(auth.principal(), origin(request.request_id), cmd)
        return pb.RecordCycleCountResponse(movements=movements(outcome), stock_levels=levels(outcome))

    async def TransferStock(
        self, request: pb.TransferStockRequest, context: Context
    ) -> pb.TransferStockResponse:
        cmd = commands.Transfer(
            convert.warehouse_id(request.source_warehouse, "source_warehouse"),
            convert.warehouse_id(request.destination_warehouse, "destination_warehouse"),
            convert.stock_lines(list(request.lines)),
            request.reference,
            request.note,
        )
        outcome = await self.stock.transfer(auth.principal(), origin(request.request_id), cmd)
        return pb.TransferStockResponse(movements=movements(outcome), stock_levels=levels(outcome))

    async def ReturnStock(self, request: pb.ReturnStockRequest, context: Context) -> pb.ReturnStockResponse:
        cmd = commands.Return(
            convert.warehouse_id(request.warehouse, "warehouse"),
            convert.stock_lines(list(request.lines)),
            request.reference,
            request.note,
        )
        outcome = await self.stock.return_stock(auth.principal(), origin(request.request_id), cmd)
        return pb.ReturnStockResponse(movements=movements(outcome), stock_levels=levels(outcome))

    async def GetMovement(self, request: pb.GetMovementRequest, context: Context) -> pb.GetMovementResponse:
        found = await self.movements.get_movement(
            auth.principal(), protos.resource_id(request.name, "movements", "name")
        )
        return pb.GetMovementResponse(movement=convert.movement(found))

    async def ListMovements(
        self, request: pb.ListMovementsRequest, context: Context
    ) -> pb.ListMovementsResponse:
        query = commands.ListMovements(
            page_size=request.page_size,
            page_token=request.page_token,
            warehouse_id=convert.warehouse_id(request.warehouse, "warehouse") if request.warehouse else None,
            sku=request.sku,
            types=convert.movement_types(list(request.types)),
            reference=request.reference,
            reservation_id=protos.resource_id(request.reservation, "reservations", "reservation")
            if request.reservation
            else "",
            start=protos.datetime_of(request, "start_time"),
            end=protos.datetime_of(request, "end_time"),
            after_sequence=request.after_sequence,
            newest_first=request.newest_first,
        )
        page = await self.movements.list_movements(auth.principal(), query)
        return pb.ListMovementsResponse(
            movements=[convert.movement(m) for m in page.items], next_page_token=page.next_page_token
        )

    async def SummarizeDemand(
        self, request: pb.SummarizeDemandRequest, context: Context
    ) -> pb.SummarizeDemandResponse:
        start = protos.datetime_of(request, "start_time")
        if start is None:
            raise InvalidArgument([FieldViolation("start_time", "required")])
        query = commands.SummarizeDemand(
            convert.warehouse_id(request.warehouse, "warehouse"),
            start,
            protos.datetime_of(request, "end_time"),
            tuple(request.skus),
            request.page_size,
            request.page_token,
        )
        page = await self.movements.summarize_demand(auth.principal(), query)
        return pb.SummarizeDemandResponse(
            summaries=[
                pb.DemandSummary(
                    sku=d.sku,
                    warehouse=request.warehouse,
                    shipped_quantity=d.sums.shipped,
                    returned_quantity=d.sums.returned,
                    shipment_count=d.sums.shipments,
                    first_shipment_time=protos.timestamp(d.sums.first_shipment_at),
                    last_shipment_time=protos.timestamp(d.sums.last_shipment_at),
                )
                for d in page.summaries
            ],
            next_page_token=page.next_page_token,
            start_time=protos.timestamp(page.start),
            end_time=protos.timestamp(page.end),
        )

    async def ReconcileStockLevels(
        self, request: pb.ReconcileStockLevelsRequest, context: Context
    ) -> pb.ReconcileStockLevelsResponse:
        report = await self.levels.reconcile(auth.principal(), convert.parent(request.parent))
        return pb.ReconcileStockLevelsResponse(
            checked_level_count=report.checked,
            drifts=[
                pb.StockDrift(
                    sku=d.sku,
                    warehouse=f"warehouses/{d.warehouse_id}",
                    field=d.field,
                    kind=pb.DriftKind.Value(f"DRIFT_KIND_{d.kind.upper()}"),
                    expected=d.expected,
                    actual=d.actual,
                )
                for d in report.drifts
            ],
            truncated=report.truncated,
            ledger_sequence=report.ledger_sequence,
            check_time=protos.timestamp(report.checked_at),
        )

    async def WatchStockLevels(
        self, request: pb.WatchStockLevelsRequest, context: Context
    ) -> AsyncIterator[pb.WatchStockLevelsResponse]:
        query = WatchQuery(
            convert.parent(request.parent), tuple(request.skus), request.cursor, request.send_initial_levels
        )
        events = await self.watcher.open(auth.principal(), query)
        # Checked and started: say so now rather than with the first message,
        # which may be a heartbeat away; a client such as the REST gateway
        # waits for this to tell a refused stream from a started one.
        await context.send_initial_metadata(())
        async with contextlib.aclosing(events):
            async for event in events:
                yield pb.WatchStockLevelsResponse(
                    type=pb.WatchEventType.Value(f"WATCH_EVENT_TYPE_{EventType(event.type).name}"),
                    stock_level=convert.level(event.level) if event.level else None,
                    movement=convert.movement(event.movement) if event.movement else None,
                    cursor=event.cursor,
                )
