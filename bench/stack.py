"""The services a reservation benchmark calls: svc_user, svc_catalog and
svc_stock processes, from this checkout or from another revision of it, each
stack on databases of its own and seeded with a tenant, a warehouse and SKUs."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from google.type import money_pb2

from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from tests import harness

PASSWORD = "bench-password-1"  # a throwaway tenant on throwaway databases


@dataclass(frozen=True)
class Stack:
    """Seeded services, ready to take reservations."""

    code: str  # "this checkout", or the revision the code came from
    stocks: list[harness.ServiceProcess]
    token: str
    warehouse: str
    skus: list[str]

    def analyze(self) -> None:
        """ANALYZE svc_stock's database, as autovacuum would have by now.

        A server with autovacuum off never gathers statistics, and a plan
        that a connection cached while the tables were small is kept for
        good; any production PostgreSQL analyzes a table once a tenth of it
        has changed, and so makes its plans again."""
        with psycopg.connect(self.stocks[0].database_url, autocommit=True) as conn:
            conn.execute("ANALYZE")


def autovacuum_off() -> bool:
    with psycopg.connect(harness.POSTGRES) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return row is not None and row[0] == "off"


@contextlib.contextmanager
def exported(revision: str) -> Iterator[Path]:
    """The files of one revision of this repository, in a directory removed afterwards.

    Generated code is committed (gen/), so the export runs as it is, on this
    checkout's virtual environment."""
    with tempfile.TemporaryDirectory(prefix="stockmesh-bench-") as tmp:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision],  # noqa: S607 - git from PATH, as the Makefile's
            cwd=harness.ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)  # noqa: S607
        yield Path(tmp)


@contextlib.contextmanager
def started(code: str, root: Path, home: Path, tls_dir: Path, *, replicas: int, skus: int) -> Iterator[Stack]:
    """svc_user, svc_catalog and `replicas` svc_stock processes of the code at
    `root`, on fresh PostgreSQL databases, stopped and dropped afterwards."""
    # Production settings, except that spans are not exported: the cluster
    # exports them in batches to OTLP, off the request path.
    quiet = {"STOCKMESH_TRACES_FILE": ""}
    processes: list[harness.ServiceProcess] = []
    with (
        harness.postgres_database() as user_db,
        harness.postgres_database() as catalog_db,
        harness.postgres_database() as stock_db,
    ):
        try:
            user = harness.ServiceProcess("user", home, tls_dir, user_db, env=quiet, root=root)
            processes.append(user.start())
            catalog = harness.ServiceProcess(
                "catalog",
                home,
                tls_dir,
                catalog_db,
                env={**quiet, "STOCKMESH_USER_ADDR": user.address},
                root=root,
            )
            processes.append(catalog.start())
            stock_env = {
                **quiet,
                "STOCKMESH_USER_ADDR": user.address,
                "STOCKMESH_CATALOG_ADDR": catalog.address,
            }
            stocks = []
            for n in range(replicas):
                stock = harness.ServiceProcess("stock", home, tls_dir, stock_db, env=stock_env, root=root)
                # The first one migrates the shared database; the others serve it.
                processes.append(stock.start(migrate=n == 0))
                stocks.append(stock)
            token, warehouse, codes = seed(user, catalog, stocks[0], skus)
            yield Stack(code, stocks, token, warehouse, codes)
        finally:
            for process in reversed(processes):
                process.stop()


def seed(
    user: harness.ServiceProcess, catalog: harness.ServiceProcess, stock: harness.ServiceProcess, skus: int
) -> tuple[str, str, list[str]]:
    """A tenant and its admin (made by the code's own `create-admin`), one
    product with `skus` variants, a warehouse, and a billion of each SKU."""
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    email = f"admin@{slug}.test"
    user.cli("create-admin", "--tenant", slug, "--email", email, "--password-stdin", stdin=PASSWORD + "\n")
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
