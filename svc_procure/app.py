"""Wires svc_procure: database, the catalog and stock clients, use cases,
servicers, and the loop that books PENDING receipts."""

from __future__ import annotations

from datetime import UTC, datetime

from grpc import aio

from kit.clients import Channels
from kit.db import Database
from kit.jwks import remote_verifier
from kit.server import Service
from kit.settings import Settings, seconds
from stockmesh.procure.v1 import procure_pb2_grpc
from svc_procure import service, store
from svc_procure.catalog_client import CatalogClient
from svc_procure.stock_client import StockClient
from svc_procure.usecases.orders import Orders
from svc_procure.usecases.replenishment import Replenishment
from svc_procure.usecases.suppliers import Suppliers

NAME = "procure"


def clock() -> datetime:
    return datetime.now(UTC)


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=10)
    channels = Channels(settings)
    stock = StockClient(channels.get("stock"))
    catalog = CatalogClient(channels.get("catalog"))
    suppliers = Suppliers(db, catalog, clock)
    orders = Orders(db, stock, catalog, clock)
    replenishment = Replenishment(db, stock, clock)

    def register(server: aio.Server) -> None:
        procure_pb2_grpc.add_SupplierServiceServicer_to_server(service.SupplierServicer(suppliers), server)
        procure_pb2_grpc.add_PurchaseOrderServiceServicer_to_server(
            service.PurchaseOrderServicer(orders), server
        )
        procure_pb2_grpc.add_ReplenishmentServiceServicer_to_server(
            service.ReplenishmentServicer(replenishment, orders), server
        )

    async def book() -> None:
        await orders.book_pending()

    return Service(
        name=NAME,
        register=register,
        service_names=(service.SUPPLIER, service.ORDER, service.REPLENISHMENT),
        rules=service.RULES,
        db=db,
        idempotency_records=store.idempotency_records,
        verifier=remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds),
        loops=[
            ("book-receipts", seconds(settings, "BOOKING_SECONDS", 5.0), book),
        ],
        on_stop=[channels.close],
    )
