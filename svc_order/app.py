"""Wires svc_order: database, the catalog and stock clients, use cases, the
servicer, and the sweep that marks lapsed holds EXPIRED."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from grpc import aio

from clients.catalog.client import CatalogClient
from clients.stock.client import StockClient
from clients.user.client import remote_verifier
from kit.clients import Channels
from kit.db import Database
from kit.server import Service
from kit.settings import Settings, SettingsError, seconds
from kit.uow import Units
from stockmesh.order.v1 import order_pb2_grpc
from svc_order import service, store
from svc_order.catalog import Catalog, Snapshots
from svc_order.ports import OrderUnit, Warehouses
from svc_order.stock import Stock
from svc_order.usecases.orders import Orders
from svc_order.usecases.placing import Placement
from svc_order.usecases.returns import Returns
from svc_order.usecases.sales import Sales

NAME = "order"
# Fault injection for tests of the failure paths; never set in production.
FAULTS = ("", "exit-after-reserve", "exit-after-store")


def clock() -> datetime:
    return datetime.now(UTC)


def _exit_now() -> None:
    os._exit(70)  # dies as a crash would: no cleanup, no compensation


def use_cases(
    settings: Settings, units: Units[OrderUnit], catalog: Catalog, stock: Stock, warehouses: Warehouses
) -> tuple[Orders, Returns, Sales]:
    fault = settings.extra.get("STOCKMESH_ORDER_FAULT", "")
    if fault not in FAULTS:
        raise SettingsError(f"STOCKMESH_ORDER_FAULT must be one of {FAULTS}, not {fault!r}")
    placement = Placement(
        units,
        stock,
        # svc_stock accepts 10 s to 30 days; the lease covers reserve -> store -> extend.
        lease=timedelta(seconds=max(10.0, seconds(settings, "RESERVE_LEASE_SECONDS", 30.0))),
        after_reserve=_exit_now if fault == "exit-after-reserve" else lambda: None,
        after_store=_exit_now if fault == "exit-after-store" else lambda: None,
    )
    orders = Orders(units, catalog, stock, warehouses, placement)
    return orders, Returns(units, stock, orders), Sales(units, catalog, placement)


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=settings.pool_size(20))
    channels = Channels(settings)
    stock = StockClient(channels.get("stock"))
    orders, returns, sales = use_cases(
        settings, store.units(db, clock), Snapshots(CatalogClient(channels.get("catalog"))), stock, stock
    )

    def register(server: aio.Server) -> None:
        order_pb2_grpc.add_OrderServiceServicer_to_server(
            service.OrderServicer(orders, returns, sales), server
        )

    async def sweep() -> None:
        await orders.sweep()

    async def book_returns() -> None:
        await returns.book_pending()

    return Service(
        name=NAME,
        register=register,
        service_names=(service.ORDER,),
        rules=service.RULES,
        db=db,
        idempotency_records=store.tables.idempotency_records,
        verifier=remote_verifier(channels, leeway_seconds=settings.token_leeway_seconds),
        loops=[
            ("expire-orders", seconds(settings, "SWEEP_SECONDS", 5.0), sweep),
            ("book-returns", seconds(settings, "BOOKING_SECONDS", 5.0), book_returns),
        ],
        on_stop=[channels.close],
    )
