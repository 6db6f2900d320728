"""Reservation throughput through the full gRPC stack, against a bare
conditional UPDATE loop on the same PostgreSQL, in one run.

    make bench                     # or: .venv/bin/python -m bench.reservations --clients 32 64 --replicas 2

Prints reservations per second on one hot SKU and on many SKUs, p50/p99
latency, and each rate as a ratio of the bare loop's rate at the same
concurrency. Needs PostgreSQL at STOCKMESH_TEST_POSTGRES (default
postgresql://root@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import psycopg
from google.type import money_pb2
from grpc import aio

from kit import tls
from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from tests import harness
from tests.conftest import PASSWORD, create_tenant

CHANNELS = 4  # client connections in all, shared out over the svc_stock processes


async def run_for(
    seconds: float, clients: int, call: Callable[[int], Awaitable[bool]]
) -> tuple[float, list[float], int]:
    """Each client calls in a loop until time is up: (rate of successes, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await call(n)
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies, failures


async def bare_loop(url: str, seconds: float, clients: int, rows: int) -> float:
    """The floor: one conditional UPDATE per reservation, autocommit, no RPC."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("DROP TABLE IF EXISTS bench_levels")
        await conn.execute("CREATE TABLE bench_levels (id int PRIMARY KEY, on_hand bigint, reserved bigint)")
        await conn.execute(
            "INSERT INTO bench_levels SELECT g, 1000000000, 0 FROM generate_series(0, %s) g", (rows - 1,)
        )
    connections = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(clients)]

    async def call(n: int) -> bool:
        row = n % rows
        cursor = await connections[n].execute(
            "UPDATE bench_levels SET reserved = reserved + 1 WHERE id = %s AND on_hand - reserved >= 1",
            (row,),
        )
        return cursor.rowcount == 1

    rate, _, _ = await run_for(seconds, clients, call)
    for conn in connections:
        await conn.close()
    return rate


async def full_stack(
    stocks: list[harness.ServiceProcess],
    token: str,
    warehouse: str,
    skus: list[str],
    seconds: float,
    clients: int,
) -> tuple[float, list[float], int]:
    # Calls go round-robin over the svc_stock processes, as the mesh spreads
    # requests over pods (per request, not per connection).
    identity = tls.load(stocks[0].tls_dir, "dev-client")
    per_process = max(1, CHANNELS // len(stocks))
    channels = [
        aio.secure_channel(
            stock.address,
            tls.channel_credentials(identity),
            options=[("grpc.ssl_target_name_override", "svc-stock")],
        )
        for _ in range(per_process)
        for stock in stocks
    ]
    stubs = [stock_pb2_grpc.ReservationServiceStub(c) for c in channels]
    metadata = (("authorization", f"Bearer {token}"),)

    async def call(n: int) -> bool:
        sku = skus[n % len(skus)] if len(skus) > 1 else skus[0]
        request = pb.CreateReservationRequest(
            request_id=str(uuid.uuid4()),
            reservation=pb.Reservation(
                reference="orders/bench", lines=[pb.ReservationLine(warehouse=warehouse, sku=sku, quantity=1)]
            ),
        )
        try:
            await stubs[n % len(stubs)].CreateReservation(request, metadata=metadata, timeout=30)
        except grpc.RpcError:
            return False
        return True

    result = await run_for(seconds, clients, call)
    for channel in channels:
        await channel.close(None)
    return result


def seed(
    user: harness.ServiceProcess, catalog: harness.ServiceProcess, stock: harness.ServiceProcess, skus: int
) -> tuple[str, str, list[str]]:
    slug, email = create_tenant(user.database_url)
    with user.channel() as channel:
        login = user_pb2_grpc.AuthServiceStub(channel).Login(
            user_pb2.LoginRequest(request_id=str(uuid.uuid4()), tenant=slug, email=email, password=PASSWORD),
            timeout=10,
        )
    token = login.tokens.access_token
    metadata = (("authorization", f"Bearer {token}"),)
    codes = [f"BENCH-{i:04d}" for i in range(skus)]
    with catalog.channel() as channel:
        catalog_pb2_grpc.CatalogServiceStub(channel).CreateProduct(
            catalog_pb2.CreateProductRequest(
                request_id=str(uuid.uuid4()),
                product=catalog_pb2.Product(
                    display_name="Bench",
                    variants=[
                        catalog_pb2.Variant(sku=c, list_price=money_pb2.Money(currency_code="EUR", units=1))
                        for c in codes
                    ],
                ),
            ),
            metadata=metadata,
            timeout=30,
        )
    with stock.channel() as channel:
        warehouse = (
            stock_pb2_grpc.WarehouseServiceStub(channel)
            .CreateWarehouse(
                pb.CreateWarehouseRequest(
                    request_id=str(uuid.uuid4()), warehouse=pb.Warehouse(code="BENCH", display_name="Bench")
                ),
                metadata=metadata,
                timeout=10,
            )
            .warehouse.name
        )
        stock_pb2_grpc.StockServiceStub(channel).ReceiveStock(
            pb.ReceiveStockRequest(
                request_id=str(uuid.uuid4()),
                warehouse=warehouse,
                lines=[pb.StockLine(sku=c, quantity=1_000_000_000) for c in codes],
            ),
            metadata=metadata,
            timeout=60,
        )
    return token, warehouse, codes


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument(
        "--clients",
        type=int,
        nargs="+",
        default=[32, 64],
        help="concurrent clients; each count is run against both the bare loop and the full stack",
    )
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        help="svc_stock processes (two pods, the least a deployment runs), each on its own port; "
        "calls go round-robin over them, as the mesh spreads them over pods",
    )
    args = parser.parse_args()
    harness.require_postgres()
    with (
        tempfile.TemporaryDirectory() as tmp,
        harness.postgres_database() as user_db,
        harness.postgres_database() as catalog_db,
        harness.postgres_database() as stock_db,
    ):
        home = Path(tmp)
        tls_dir = harness.issue_certificates(home / "tls")
        # Production settings, except that spans are not exported: the cluster
        # exports them in batches to OTLP, off the request path.
        quiet = {"STOCKMESH_TRACES_FILE": ""}
        user = harness.ServiceProcess("user", home, tls_dir, user_db, env=quiet).start()
        catalog = harness.ServiceProcess(
            "catalog", home, tls_dir, catalog_db, env={**quiet, "STOCKMESH_USER_ADDR": user.address}
        ).start()
        stock = harness.ServiceProcess(
            "stock",
            home,
            tls_dir,
            stock_db,
            env={**quiet, "STOCKMESH_USER_ADDR": user.address, "STOCKMESH_CATALOG_ADDR": catalog.address},
        ).start()
        replicas = [
            harness.ServiceProcess("stock", home, tls_dir, stock_db, env=stock.env).start(migrate=False)
            for _ in range(args.replicas - 1)
        ]
        try:
            token, warehouse, skus = seed(user, catalog, stock, args.skus)
            print(
                f"reservations, {args.seconds:.0f} s a run, PostgreSQL, {args.replicas} svc_stock "
                "process(es); ratio = full stack / bare UPDATE loop at the same concurrency"
            )
            header = (
                "workload",
                "clients",
                "full stack/s",
                "p50 ms",
                "p99 ms",
                "bare UPDATE/s",
                "ratio",
                "failed",
            )
            line = "{:<10} {:>7} {:>12} {:>8} {:>8} {:>14} {:>6} {:>6}"
            print(line.format(*header), flush=True)
            for clients in args.clients:
                bare_hot = asyncio.run(bare_loop(stock_db, args.seconds, clients, 1))
                bare_many = asyncio.run(bare_loop(stock_db, args.seconds, clients, args.skus))
                for label, chosen, bare in (
                    ("hot SKU", skus[:1], bare_hot),
                    (f"{args.skus} SKUs", skus, bare_many),
                ):
                    rate, latencies, failures = asyncio.run(
                        full_stack([stock, *replicas], token, warehouse, chosen, args.seconds, clients)
                    )
                    cells = (
                        label,
                        clients,
                        f"{rate:.0f}",
                        f"{percentile(latencies, 50):.1f}",
                        f"{percentile(latencies, 99):.1f}",
                        f"{bare:.0f}",
                        f"{rate / bare:.2f}",
                        failures,
                    )
                    print(line.format(*cells), flush=True)
        finally:
            for process in (*replicas, stock, catalog, user):
                process.stop()


if __name__ == "__main__":
    main()
