"""The gateway as its own process (`python -m gateway`) in front of the five
services, each its own process over mTLS on PostgreSQL, and a REST client."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import harness
from tests.conftest import PASSWORD, Stacks, create_tenant
from tests.integration.order.conftest import order_stack
from tests.integration.procure.conftest import procure_stack

BACKEND = "postgresql"


@dataclass
class GatewayProcess:
    home: Path
    tls_dir: Path
    peers: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=harness.free_port)
    metrics_port: int = field(default_factory=harness.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / f"gateway-{self.port}.log"

    @property
    def traces_path(self) -> Path:
        return self.home / f"gateway-{self.port}.traces.jsonl"

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        env = {k: v for k, v in harness.os.environ.items() if not k.startswith(("STOCKMESH_", "REDIS_URL"))}
        env.update(
            STOCKMESH_HOME=str(self.home),
            STOCKMESH_TLS_DIR=str(self.tls_dir),
            STOCKMESH_TRUST_DOMAIN=harness.TRUST_DOMAIN,
            STOCKMESH_NAMESPACE=harness.NAMESPACE,
            STOCKMESH_GATEWAY_LISTEN=f"127.0.0.1:{self.port}",
            STOCKMESH_GATEWAY_METRICS_LISTEN=f"127.0.0.1:{self.metrics_port}",
            STOCKMESH_TRACES_FILE=str(self.traces_path),
            STOCKMESH_GRACE_SECONDS="2",
            **{f"STOCKMESH_{name.upper()}_ADDR": address for name, address in self.peers.items()},
        )
        env.update(self.env)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=harness.ROOT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the gateway did not start; log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def services(stacks: Stacks) -> dict[str, harness.ServiceProcess]:
    """The five services on PostgreSQL, shared with the other integration tests."""
    order = order_stack(stacks)
    procure = procure_stack(stacks)
    user = stacks.user(BACKEND)
    catalog = stacks.service("catalog", BACKEND, env={"STOCKMESH_USER_ADDR": user.address})
    stock = stacks.started[("stock", BACKEND)]
    return {"user": user, "catalog": catalog, "stock": stock, "procure": procure, "order": order}


def start_gateway(
    stacks: Stacks, tmp: Path, env: dict[str, str] | None = None, peers: dict[str, str] | None = None
) -> GatewayProcess:
    found = services(stacks)
    addresses = {name: process.address for name, process in found.items()} | (peers or {})
    gateway = GatewayProcess(tmp, stacks.tls_dir, addresses, env=env or {})
    stacks.cleanups.callback(gateway.stop)
    return gateway.start()


@pytest.fixture(scope="session")
def gateway(stacks: Stacks, tmp_path_factory: pytest.TempPathFactory) -> GatewayProcess:
    return start_gateway(stacks, tmp_path_factory.mktemp("gateway"))


@dataclass
class Rest:
    """An HTTP client of the gateway, logged in as a tenant's admin."""

    http: httpx.Client
    tenant: str
    email: str
    token: str = ""

    def login(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        reply = self.http.post(
            "/v1/auth:login",
            json={"tenant": self.tenant, "email": email or self.email, "password": password},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers={**self.auth(), **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        return self.http.post(path, json=body if body is not None else {}, headers=headers, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        return self.http.patch(path, json=body, headers=headers, **kwargs)


@pytest.fixture
def rest(gateway: GatewayProcess, stacks: Stacks) -> Iterator[Rest]:
    slug, email = create_tenant(stacks.user(BACKEND).database_url)
    with httpx.Client(base_url=gateway.base_url, timeout=20.0) as http:
        client = Rest(http, slug, email)
        client.token = client.login()["tokens"]["accessToken"]
        yield client
