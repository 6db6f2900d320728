"""Wires svc_stock: database, the catalog client, use cases, servicers, the expiry sweeper."""

from __future__ import annotations

from datetime import UTC, datetime

from grpc import aio

from clients.catalog import Catalog
from clients.catalog.client import CatalogClient
from clients.user.client import remote_verifier
from kit.clients import Channels
from kit.db import Database
from kit.server import Service
from kit.settings import Settings, count, seconds
from stockmesh.stock.v1 import stock_pb2_grpc
from svc_stock import service, store
from svc_stock.domain import Provenance
from svc_stock.usecases.reservations import Reservations
from svc_stock.usecases.stock import Stock
from svc_stock.usecases.warehouses import Warehouses
from svc_stock.usecases.watch import Watcher

NAME = "stock"


def clock() -> datetime:
    return datetime.now(UTC)


def use_cases(
    settings: Settings, db: Database, catalog: Catalog
) -> tuple[Warehouses, Stock, Reservations, Watcher]:
    system = Provenance(user_id="", caller=settings.spiffe_id, request_id="", trace_id="")
    watcher = Watcher(
        db,
        clock,
        poll_seconds=seconds(settings, "WATCH_POLL_SECONDS", 0.2),
        heartbeat_seconds=seconds(settings, "WATCH_HEARTBEAT_SECONDS", 15.0),
        max_seconds=seconds(settings, "WATCH_MAX_SECONDS", 1800.0),
        queue_size=count(settings, "WATCH_QUEUE_SIZE", 1000),
    )
    reservations = Reservations(db, clock, system=system)
    stock = Stock(db, catalog, clock, free_lapsed=reservations.expire_lapsed_on)
    return Warehouses(db, clock), stock, reservations, watcher


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=20)
    channels = Channels(settings)
    warehouses, stock, reservations, watcher = use_cases(settings, db, CatalogClient(channels.get("catalog")))

    def register(server: aio.Server) -> None:
        stock_pb2_grpc.add_WarehouseServiceServicer_to_server(service.WarehouseServicer(warehouses), server)
        stock_pb2_grpc.add_StockServiceServicer_to_server(service.StockServicer(stock, watcher), server)
        stock_pb2_grpc.add_ReservationServiceServicer_to_server(
            service.ReservationServicer(reservations), server
        )

    async def sweep() -> None:
        await reservations.sweep()

    return Service(
        name=NAME,
        register=register,
        service_names=(service.WAREHOUSE, service.STOCK, service.RESERVATION),
        rules=service.RULES,
        db=db,
        idempotency_records=store.idempotency_records,
        verifier=remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds),
        loops=[
            ("expire-reservations", seconds(settings, "SWEEP_SECONDS", 1.0), sweep),
        ],
        on_stop=[channels.close, watcher.close],
    )
