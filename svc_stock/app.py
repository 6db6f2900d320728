"""Wires svc_stock: database, the catalog client, use cases, servicers, the expiry sweeper."""

from __future__ import annotations

from dataclasses import dataclass
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
from svc_stock.domain import Provenance
from svc_stock.service import common
from svc_stock.service.reservations import ReservationServicer
from svc_stock.service.stock import StockServicer
from svc_stock.service.warehouses import WarehouseServicer
from svc_stock.store import tables
from svc_stock.store.unit import reservation_batches, units
from svc_stock.usecases.gauges import LowStockGauge
from svc_stock.usecases.granting import Granting
from svc_stock.usecases.levels import Levels
from svc_stock.usecases.movements import Movements
from svc_stock.usecases.reservations import Reservations
from svc_stock.usecases.stock import Stock
from svc_stock.usecases.warehouses import Warehouses
from svc_stock.usecases.watch import Watcher

NAME = "stock"


def clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class UseCases:
    warehouses: Warehouses
    levels: Levels
    stock: Stock
    movements: Movements
    granting: Granting
    reservations: Reservations
    watcher: Watcher
    low_stock: LowStockGauge


def use_cases(settings: Settings, db: Database, catalog: Catalog) -> UseCases:
    system = Provenance(user_id="", caller=settings.spiffe_id, request_id="", trace_id="")
    stock_units = units(db, clock)
    reservations = Reservations(stock_units, system=system)
    return UseCases(
        warehouses=Warehouses(stock_units),
        levels=Levels(stock_units, catalog),
        stock=Stock(stock_units, catalog, free_lapsed=reservations.expire_lapsed_on),
        movements=Movements(stock_units),
        granting=Granting(stock_units, reservation_batches(db), system=system),
        reservations=reservations,
        watcher=Watcher(
            db,
            stock_units,
            poll_seconds=seconds(settings, "WATCH_POLL_SECONDS", 0.2),
            heartbeat_seconds=seconds(settings, "WATCH_HEARTBEAT_SECONDS", 15.0),
            max_seconds=seconds(settings, "WATCH_MAX_SECONDS", 1800.0),
            queue_size=count(settings, "WATCH_QUEUE_SIZE", 1000),
        ),
        low_stock=LowStockGauge(stock_units),
    )


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=settings.pool_size(20))
    channels = Channels(settings)
    cases = use_cases(settings, db, CatalogClient(channels.get("catalog")))

    def register(server: aio.Server) -> None:
        stock_pb2_grpc.add_WarehouseServiceServicer_to_server(WarehouseServicer(cases.warehouses), server)
        stock_pb2_grpc.add_StockServiceServicer_to_server(
            StockServicer(cases.levels, cases.stock, cases.movements, cases.watcher), server
        )
        stock_pb2_grpc.add_ReservationServiceServicer_to_server(
            ReservationServicer(cases.granting, cases.reservations), server
        )

    async def sweep() -> None:
        await cases.reservations.sweep()

    return Service(
        name=NAME,
        register=register,
        service_names=(common.WAREHOUSE, common.STOCK, common.RESERVATION),
        rules=common.RULES,
        db=db,
        idempotency_records=tables.idempotency_records,
        verifier=remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds),
        loops=[
            ("expire-reservations", seconds(settings, "SWEEP_SECONDS", 1.0), sweep),
            ("low-stock-gauge", seconds(settings, "LOW_STOCK_GAUGE_SECONDS", 60.0), cases.low_stock.refresh),
        ],
        on_stop=[channels.close, cases.watcher.close],
    )
