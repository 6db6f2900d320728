"""Wires svc_procure: database, the catalog and stock clients, use cases,
servicers, and the loop that books PENDING receipts."""

from __future__ import annotations

from datetime import UTC, datetime

from grpc import aio

from clients.catalog.client import CatalogClient
from clients.stock.client import StockClient
from clients.user.client import remote_verifier
from kit.clients import Channels
from kit.db import Database
from kit.server import Service
from kit.settings import Settings, seconds
from stockmesh.procure.v1 import procure_pb2_grpc
from svc_procure import service
from svc_procure.store import unit
from svc_procure.store.tables import idempotency_records
from svc_procure.usecases.booking import Booking
from svc_procure.usecases.drafts import ProposalDrafts
from svc_procure.usecases.orders import Orders
from svc_procure.usecases.receiving import Receiving
from svc_procure.usecases.replenishment import Replenishment
from svc_procure.usecases.supplier_items import SupplierItems
from svc_procure.usecases.suppliers import Suppliers

NAME = "procure"


def clock() -> datetime:
    return datetime.now(UTC)


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=settings.pool_size(10))
    channels = Channels(settings)
    stock = StockClient(channels.get("stock"))
    catalog = CatalogClient(channels.get("catalog"))
    units = unit.units(db, clock)
    booking = Booking(units, stock)
    suppliers = service.SupplierServicer(Suppliers(units), SupplierItems(units, catalog))
    orders = service.PurchaseOrderServicer(Orders(units, stock, catalog), Receiving(units, booking))
    replenishment = service.ReplenishmentServicer(Replenishment(units, stock), ProposalDrafts(units, stock))

    def register(server: aio.Server) -> None:
        procure_pb2_grpc.add_SupplierServiceServicer_to_server(suppliers, server)
        procure_pb2_grpc.add_PurchaseOrderServiceServicer_to_server(orders, server)
        procure_pb2_grpc.add_ReplenishmentServiceServicer_to_server(replenishment, server)

    async def book() -> None:
        await booking.book_pending()

    return Service(
        name=NAME,
        register=register,
        service_names=(service.SUPPLIER, service.ORDER, service.REPLENISHMENT),
        rules=service.RULES,
        db=db,
        idempotency_records=idempotency_records,
        verifier=remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds),
        loops=[
            ("book-receipts", seconds(settings, "BOOKING_SECONDS", 5.0), book),
        ],
        on_stop=[channels.close],
    )
