"""The system under test: the four services on PostgreSQL, the gateway in its own
process, and the seeded tenant, warehouse and SKUs the calls use."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from grpc import aio

from bench.gateway.procstat import CpuMeter, postgres_backends, with_descendants
from tests import harness

HOST = "127.0.0.1"
# One user from one address makes every call: the per-user and per-address
# limits (50/s and 100/s by default) would otherwise be what is measured.
UNLIMITED = "1000000"


@dataclass
class Gateway:
    """The gateway in its own process: `python -m gateway` (uvicorn), the same
    under cProfile, or granian serving the factory in bench.gateway.servers."""

    server: str  # "uvicorn" or "granian"
    home: Path
    env: dict[str, str]
    profile_to: Path | None = None
    port: int = field(default_factory=harness.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.home / f"gateway-{self.server}-{self.port}.log"

    def command(self) -> list[str]:
        if self.server == "granian":
            return [
                *(sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop"),
                *("--http", "1", "--no-ws", "--workers", "1", "--host", HOST, "--port", str(self.port)),
                *("--factory", "bench.gateway.servers:app"),
            ]
        if self.profile_to:
            return [sys.executable, "-m", "bench.gateway", "--serve-profiled", str(self.profile_to)]
        return [sys.executable, "-m", "gateway"]

    def start(self, timeout: float = 30.0) -> Gateway:
        env = {**self.env, "STOCKMESH_GATEWAY_LISTEN": f"{HOST}:{self.port}"}
        env["STOCKMESH_GATEWAY_METRICS_LISTEN"] = f"{HOST}:{harness.free_port()}"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=harness.ROOT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{HOST}:{self.port}/healthz", timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"the gateway ({self.server}) did not start; log:\n{tail}")

    def pids(self) -> list[int]:
        return with_descendants(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def gateway_env(home: Path, tls_dir: Path, peers: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKMESH_", "REDIS_URL"))}
    env.update(
        STOCKMESH_HOME=str(home),
        STOCKMESH_TLS_DIR=str(tls_dir),
        STOCKMESH_TRUST_DOMAIN=harness.TRUST_DOMAIN,
        STOCKMESH_NAMESPACE=harness.NAMESPACE,
        STOCKMESH_TRACES_FILE="",
        STOCKMESH_GRACE_SECONDS="2",
        STOCKMESH_GATEWAY_RATE_PER_USER=UNLIMITED,
        STOCKMESH_GATEWAY_BURST_PER_USER=UNLIMITED,
        STOCKMESH_GATEWAY_RATE_PER_ADDRESS=UNLIMITED,
        STOCKMESH_GATEWAY_BURST_PER_ADDRESS=UNLIMITED,
        **{f"STOCKMESH_{name.upper()}_ADDR": address for name, address in peers.items()},
    )
    return env


@contextlib.contextmanager
def services_on_postgres(
    home: Path, tls_dir: Path
) -> Iterator[tuple[dict[str, harness.ServiceProcess], list[str]]]:
    """svc_user, svc_catalog, svc_stock and svc_order, each on its own new database."""
    # Production settings, except that spans are not exported (the cluster
    # exports them in batches, off the request path) and access tokens
    # outlive the run.
    quiet = {"STOCKMESH_TRACES_FILE": "", "STOCKMESH_HEALTH_PROBE_SECONDS": "2"}
    own = {"user": {"STOCKMESH_USER_ACCESS_TOKEN_SECONDS": "7200"}}
    with contextlib.ExitStack() as stack:
        databases: list[str] = []
        services: dict[str, harness.ServiceProcess] = {}
        peers: dict[str, str] = {}
        for name in ("user", "catalog", "stock", "order"):
            database = stack.enter_context(harness.postgres_database())
            databases.append(database)
            service = harness.ServiceProcess(
                name, home, tls_dir, database, env={**quiet, **peers, **own.get(name, {})}
            )
            services[name] = service.start()
            stack.callback(service.stop)
            peers[f"STOCKMESH_{name.upper()}_ADDR"] = service.address
        yield services, databases


def pid_of(service: harness.ServiceProcess) -> Callable[[], list[int]]:
    return lambda: [service.process.pid] if service.process else []


@dataclass
class Stack:
    services: dict[str, harness.ServiceProcess]
    databases: list[str]
    token: str
    warehouse: str
    skus: list[str]
    turn: Iterator[int] = field(default_factory=itertools.count)

    def next_sku(self) -> str:
        return self.skus[next(self.turn) % len(self.skus)]

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)

    def channel(self, name: str) -> aio.Channel:
        """A grpc.aio channel to a service as `dev-client`, as a direct caller holds one."""
        return harness.aio_channel(self.services[name])

    def meter(self, gateway: Gateway) -> CpuMeter:
        groups: dict[str, Callable[[], list[int]]] = {"gateway": gateway.pids}
        for name, service in self.services.items():
            groups[f"svc_{name}"] = pid_of(service)
        groups["postgres"] = lambda: postgres_backends(self.databases)
        return CpuMeter(groups)
