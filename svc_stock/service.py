"""svc_stock's gRPC servicers: proto in, command to a use case, proto out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from kit import auth, context, protos
from kit.errors import FieldViolation, InvalidArgument
from kit.identity import Role
from kit.rpc import Context
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_stock import commands, convert
from svc_stock.domain import Outcome, Provenance, ReservationOutcome, WarehouseStatus
from svc_stock.usecases.reservations import Reservations
from svc_stock.usecases.stock import Stock
from svc_stock.usecases.warehouses import Warehouses
from svc_stock.usecases.watch import EventType, Watcher, WatchQuery

WAREHOUSE = "stockmesh.stock.v1.WarehouseService"
STOCK = "stockmesh.stock.v1.StockService"
RESERVATION = "stockmesh.stock.v1.ReservationService"

MANAGERS = auth.roles(Role.MANAGER)
FLOOR = auth.roles(Role.MANAGER, Role.CLERK)

RULES: dict[str, auth.Rule] = {
    f"/{WAREHOUSE}/CreateWarehouse": MANAGERS,
    f"/{WAREHOUSE}/GetWarehouse": auth.ANY_USER,
    f"/{WAREHOUSE}/ListWarehouses": auth.ANY_USER,
    f"/{WAREHOUSE}/UpdateWarehouse": MANAGERS,
    f"/{WAREHOUSE}/ArchiveWarehouse": MANAGERS,
    f"/{WAREHOUSE}/UnarchiveWarehouse": MANAGERS,
    f"/{STOCK}/GetStockLevel": auth.ANY_USER,
    f"/{STOCK}/ListStockLevels": auth.ANY_USER,
    f"/{STOCK}/ListLowStock": auth.ANY_USER,
    f"/{STOCK}/SetReorderPolicy": auth.roles(Role.MANAGER, Role.BUYER),
    # svc_procure retries bookings of purchase-order receipts in the background.
    f"/{STOCK}/ReceiveStock": auth.roles(Role.MANAGER, Role.CLERK, services=frozenset({"svc-procure"})),
    f"/{STOCK}/AdjustStock": FLOOR,  # clerks within a limit (in the use case)
    f"/{STOCK}/RecordCycleCount": FLOOR,
    f"/{STOCK}/TransferStock": FLOOR,
    # svc_order retries bookings of order returns in the background.
    f"/{STOCK}/ReturnStock": auth.roles(Role.MANAGER, Role.CLERK, services=frozenset({"svc-order"})),
    f"/{STOCK}/GetMovement": auth.ANY_USER,
    f"/{STOCK}/ListMovements": auth.ANY_USER,
    f"/{STOCK}/SummarizeDemand": auth.ANY_USER,
    f"/{STOCK}/ReconcileStockLevels": auth.roles(Role.ADMIN),
    f"/{STOCK}/WatchStockLevels": auth.ANY_USER,
    f"/{RESERVATION}/CreateReservation": FLOOR,
    f"/{RESERVATION}/GetReservation": auth.ANY_USER,
    f"/{RESERVATION}/ListReservations": auth.ANY_USER,
    f"/{RESERVATION}/ExtendReservation": FLOOR,
    f"/{RESERVATION}/ReleaseReservation": FLOOR,
    f"/{RESERVATION}/CommitReservation": FLOOR,
}


def origin(request_id: str) -> Provenance:
    """Who and what is behind this call, for the movements it writes."""
    caller = auth.current.get()
    user = caller.principal.user_id if caller.principal else ""
    return Provenance(user, caller.peer or "", request_id, context.trace_id())


class WarehouseServicer(stock_pb2_grpc.WarehouseServiceServicer):
    def __init__(self, warehouses: Warehouses) -> None:
        self.warehouses = warehouses

    async def CreateWarehouse(
        self, request: pb.CreateWarehouseRequest, context: Context
    ) -> pb.CreateWarehouseResponse:
        w = request.warehouse
        cmd = commands.CreateWarehouse(w.code, w.display_name, convert.address(w.address))
        created = await self.warehouses.create(auth.principal(), request.request_id, cmd)
        return pb.CreateWarehouseResponse(warehouse=convert.warehouse(created))

    async def GetWarehouse(
        self, request: pb.GetWarehouseRequest, context: Context
    ) -> pb.GetWarehouseResponse:
        found = await self.warehouses.get(auth.principal(), convert.warehouse_id(request.name, "name"))
        return pb.GetWarehouseResponse(warehouse=convert.warehouse(found))

    async def ListWarehouses(
        self, request: pb.ListWarehousesRequest, context: Context
    ) -> pb.ListWarehousesResponse:
        status = protos.enum_of(
            request.status, "WAREHOUSE_STATUS", pb.WarehouseStatus, WarehouseStatus, "status"
        )
        query = commands.ListWarehouses(request.page_size, request.page_token, status, request.code)
        page = await self.warehouses.list_warehouses(auth.principal(), query)
        return pb.ListWarehousesResponse(
            warehouses=[convert.warehouse(w) for w in page.warehouses], next_page_token=page.next_page_token
        )

    async def UpdateWarehouse(
        self, request: pb.UpdateWarehouseRequest, context: Context
    ) -> pb.UpdateWarehouseResponse:
        paths = protos.update_paths(list(request.update_mask.paths), {"display_name", "address"})
        w = request.warehouse
        cmd = commands.UpdateWarehouse(
            warehouse_id=convert.warehouse_id(w.name, "warehouse.name"),
            etag=w.etag,
            display_name=w.display_name if "display_name" in paths else None,
            address=convert.address(w.address) if "address" in paths else None,
        )
        updated = await self.warehouses.update(auth.principal(), request.request_id, cmd)
        return pb.UpdateWarehouseResponse(warehouse=convert.warehouse(updated))

    async def ArchiveWarehouse(
        self, request: pb.ArchiveWarehouseRequest, context: Context
    ) -> pb.ArchiveWarehouseResponse:
        cmd = commands.SetArchived(convert.warehouse_id(request.name, "name"), request.etag, archived=True)
        changed = await self.warehouses.set_archived(auth.principal(), request.request_id, cmd)
        return pb.ArchiveWarehouseResponse(warehouse=convert.warehouse(changed))

    async def UnarchiveWarehouse(
        self, request: pb.UnarchiveWarehouseRequest, context: Context
    ) -> pb.UnarchiveWarehouseResponse:
        cmd = commands.SetArchived(convert.warehouse_id(request.name, "name"), request.etag, archived=False)
        changed = await self.warehouses.set_archived(auth.principal(), request.request_id, cmd)
        return pb.UnarchiveWarehouseResponse(warehouse=convert.warehouse(changed))


def _movements(outcome: Outcome | ReservationOutcome) -> list[pb.Movement]:
    return [convert.movement(m) for m in outcome.movements]


def _levels(outcome: Outcome | ReservationOutcome) -> list[pb.StockLevel]:
    return [convert.level(v) for v in outcome.levels]


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    def __init__(self, stock: Stock, watcher: Watcher) -> None:
        self.stock = stock
        self.watcher = watcher

    async def GetStockLevel(
        self, request: pb.GetStockLevelRequest, context: Context
    ) -> pb.GetStockLevelResponse:
        warehouse_id, sku = convert.level_key(request.name)
        found = await self.stock.get_level(auth.principal(), warehouse_id, sku)
        return pb.GetStockLevelResponse(stock_level=convert.level(found))

    async def ListStockLevels(
        self, request: pb.ListStockLevelsRequest, context: Context
    ) -> pb.ListStockLevelsResponse:
        query = commands.ListLevels(
            convert.parent(request.parent), tuple(request.skus), request.page_size, request.page_token
        )
        page = await self.stock.list_levels(auth.principal(), query)
        return pb.ListStockLevelsResponse(
            stock_levels=[convert.level(v) for v in page.levels], next_page_token=page.next_page_token
        )

    async def ListLowStock(
        self, request: pb.ListLowStockRequest, context: Context
    ) -> pb.ListLowStockResponse:
        query = commands.ListLevels(
            convert.parent(request.parent), (), request.page_size, request.page_token, low_only=True
        )
        page = await self.stock.list_levels(auth.principal(), query)
        return pb.ListLowStockResponse(
            stock_levels=[convert.level(v) for v in page.levels], next_page_token=page.next_page_token
        )

    async def SetReorderPolicy(
        self, request: pb.SetReorderPolicyRequest, context: Context
    ) -> pb.SetReorderPolicyResponse:
        warehouse_id, sku = convert.level_key(request.name)
        cmd = commands.SetReorderPolicy(
            warehouse_id, sku, request.reorder_point, request.reorder_quantity, request.etag
        )
        level = await self.stock.set_reorder_policy(auth.principal(), request.request_id, cmd)
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
        return pb.ReceiveStockResponse(movements=_movements(outcome), stock_levels=_levels(outcome))

    async def AdjustStock(self, request: pb.AdjustStockRequest, context: Context) -> pb.AdjustStockResponse:
        cmd = commands.Adjust(
            convert.warehouse_id(request.warehouse, "warehouse"),
            convert.adjustment_lines(list(request.lines)),
            request.reference,
        )
        outcome = await self.stock.adjust(auth.principal(), origin(request.request_id), cmd)
        return pb.AdjustStockResponse(movements=_movements(outcome), stock_levels=_levels(outcome))

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
        return pb.RecordCycleCountResponse(movements=_movements(outcome), stock_levels=_levels(outcome))

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
        return pb.TransferStockResponse(movements=_movements(outcome), stock_levels=_levels(outcome))

    async def ReturnStock(self, request: pb.ReturnStockRequest, context: Context) -> pb.ReturnStockResponse:
        cmd = commands.Return(
            convert.warehouse_id(request.warehouse, "warehouse"),
            convert.stock_lines(list(request.lines)),
            request.reference,
            request.note,
        )
        outcome = await self.stock.return_stock(auth.principal(), origin(request.request_id), cmd)
        return pb.ReturnStockResponse(movements=_movements(outcome), stock_levels=_levels(outcome))

    async def GetMovement(self, request: pb.GetMovementRequest, context: Context) -> pb.GetMovementResponse:
        found = await self.stock.get_movement(
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
        page = await self.stock.list_movements(auth.principal(), query)
        return pb.ListMovementsResponse(
            movements=[convert.movement(m) for m in page.movements], next_page_token=page.next_page_token
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
        page = await self.stock.summarize_demand(auth.principal(), query)
        return pb.SummarizeDemandResponse(
            summaries=[
                pb.DemandSummary(
                    sku=d.sku,
                    warehouse=request.warehouse,
                    shipped_quantity=d.shipped,
                    returned_quantity=d.returned,
                    shipment_count=d.shipments,
                    first_shipment_time=protos.timestamp(d.first_shipment_at),
                    last_shipment_time=protos.timestamp(d.last_shipment_at),
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
        report = await self.stock.reconcile(auth.principal(), convert.parent(request.parent))
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


class ReservationServicer(stock_pb2_grpc.ReservationServiceServicer):
    def __init__(self, reservations: Reservations) -> None:
        self.reservations = reservations

    async def CreateReservation(
        self, request: pb.CreateReservationRequest, context: Context
    ) -> pb.CreateReservationResponse:
        r = request.reservation
        cmd = commands.Reserve(r.reference, convert.reservation_lines(list(r.lines)), convert.expiry(r))
        outcome = await self.reservations.reserve(auth.principal(), origin(request.request_id), cmd)
        return pb.CreateReservationResponse(
            reservation=convert.reservation(outcome.reservation),
            movements=_movements(outcome),
            stock_levels=_levels(outcome),
        )

    async def GetReservation(
        self, request: pb.GetReservationRequest, context: Context
    ) -> pb.GetReservationResponse:
        found = await self.reservations.get(
            auth.principal(), protos.resource_id(request.name, "reservations", "name")
        )
        return pb.GetReservationResponse(reservation=convert.reservation(found))

    async def ListReservations(
        self, request: pb.ListReservationsRequest, context: Context
    ) -> pb.ListReservationsResponse:
        query = commands.ListReservations(
            request.page_size,
            request.page_token,
            convert.reservation_state(request.state),
            request.reference,
            convert.warehouse_id(request.warehouse, "warehouse") if request.warehouse else None,
            request.sku,
        )
        page = await self.reservations.list_reservations(auth.principal(), query)
        return pb.ListReservationsResponse(
            reservations=[convert.reservation(r) for r in page.reservations],
            next_page_token=page.next_page_token,
        )

    async def ExtendReservation(
        self, request: pb.ExtendReservationRequest, context: Context
    ) -> pb.ExtendReservationResponse:
        if request.WhichOneof("expiration") is None:
            raise InvalidArgument([FieldViolation("expire_time", "an expire_time or a ttl is required")])
        name = protos.resource_id(request.name, "reservations", "name")
        cmd = commands.Extend(name, convert.expiry(request), request.etag)
        extended = await self.reservations.extend(auth.principal(), request.request_id, cmd)
        return pb.ExtendReservationResponse(reservation=convert.reservation(extended))

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReleaseReservationResponse:
        cmd = commands.Release(protos.resource_id(request.name, "reservations", "name"), request.etag)
        outcome = await self.reservations.release(auth.principal(), origin(request.request_id), cmd)
        return pb.ReleaseReservationResponse(
            reservation=convert.reservation(outcome.reservation),
            movements=_movements(outcome),
            stock_levels=_levels(outcome),
        )

    async def CommitReservation(
        self, request: pb.CommitReservationRequest, context: Context
    ) -> pb.CommitReservationResponse:
        cmd = commands.Commit(
            protos.resource_id(request.name, "reservations", "name"),
            protos.datetime_of(request, "ship_time"),
            request.etag,
        )
        outcome = await self.reservations.commit(auth.principal(), origin(request.request_id), cmd)
        return pb.CommitReservationResponse(
            reservation=convert.reservation(outcome.reservation),
            movements=_movements(outcome),
            stock_levels=_levels(outcome),
        )
