"""The WarehouseService servicer."""

from __future__ import annotations

from kit import auth, protos
from kit.rpc import Context
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_stock import commands, convert
from svc_stock.domain import WarehouseStatus
from svc_stock.usecases.warehouses import Warehouses


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
            warehouses=[convert.warehouse(w) for w in page.items], next_page_token=page.next_page_token
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
