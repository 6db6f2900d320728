"""Real parts for tests: PostgreSQL databases, dev certificates, and service
processes serving over mTLS on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import psycopg
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit import tls
from kit.settings import spiffe_id

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
TRUST_DOMAIN = "stockmesh.test"
NAMESPACE = "stockmesh"
POSTGRES = os.environ.get("STOCKMESH_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")
REDIS = os.environ.get("STOCKMESH_TEST_REDIS", "redis://127.0.0.1:6379/15")
ACCOUNTS = ("svc-user", "svc-catalog", "svc-stock", "svc-procure", "svc-order", "gateway", "dev-client")


def unavailable(what: str, error: Exception) -> None:
    """Under CI a missing server fails the run; on a laptop the test is skipped."""
    message = f"{what} is not reachable: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    try:
        with psycopg.connect(POSTGRES, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        unavailable("PostgreSQL", exc)


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database, dropped afterwards; yields its URL."""
    require_postgres()
    name = f"smt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_certificates(directory: Path) -> Path:
    tls.ensure_ca(directory, trust_domain=TRUST_DOMAIN)
    for account in ACCOUNTS:
        tls.issue(directory, account, spiffe_id(TRUST_DOMAIN, NAMESPACE, account))
    return directory


def identity(tls_dir: Path, account: str = "dev-client") -> tls.Identity:
    return tls.load(tls_dir, account)


def channel(address: str, tls_dir: Path, service_account: str, account: str = "dev-client") -> grpc.Channel:
    """A blocking mTLS channel to a service, as `account`."""
    return grpc.secure_channel(
        address,
        tls.channel_credentials(identity(tls_dir, account)),
        options=[("grpc.ssl_target_name_override", service_account)],
    )


def aio_channel(service: ServiceProcess, account: str = "dev-client") -> grpc.aio.Channel:
    """A grpc.aio mTLS channel to a service, as `account` (use with `async with`)."""
    return grpc.aio.secure_channel(
        service.address,
        tls.channel_credentials(identity(service.tls_dir, account)),
        options=[("grpc.ssl_target_name_override", service.account)],
    )


def run_async(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from any test, sync or async (own thread, own loop)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro_factory())  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass
class ServiceProcess:
    """One service, as `stockmesh serve <name>` in its own process."""

    name: str
    home: Path
    tls_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    command: tuple[str, ...] = ()  # default: `python -m kit.cli serve <name>`
    # The checkout whose code runs; another one (an exported revision, for a
    # benchmark against it) is put first on PYTHONPATH, ahead of this one.
    root: Path = ROOT

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def account(self) -> str:
        return f"svc-{self.name}"

    @property
    def log_path(self) -> Path:
        return self.home / f"{self.name}-{self.port}.log"

    @property
    def traces_path(self) -> Path:
        return self.home / f"{self.name}-{self.port}.traces.jsonl"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKMESH_", "DATABASE_URL"))}
        env.update(
            STOCKMESH_HOME=str(self.home),
            STOCKMESH_TLS_DIR=str(self.tls_dir),
            STOCKMESH_TRUST_DOMAIN=TRUST_DOMAIN,
            STOCKMESH_NAMESPACE=NAMESPACE,
            DATABASE_URL=self.database_url,
            STOCKMESH_GRPC_LISTEN=self.address,
            STOCKMESH_METRICS_LISTEN=f"127.0.0.1:{self.metrics_port}",
            STOCKMESH_TRACES_FILE=str(self.traces_path),
            STOCKMESH_HEALTH_PROBE_SECONDS="0.2",
            STOCKMESH_GRACE_SECONDS="5",
        )
        if self.root != ROOT:
            env["PYTHONPATH"] = os.pathsep.join((str(self.root), str(self.root / "gen")))
        env.update(self.env)
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """`stockmesh <args>` with this service's settings, from its checkout; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "kit.cli", *args],
            env=self.environment(),
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            cwd=self.root,
            check=False,
        )
        if done.returncode != 0:
            output = done.stdout.decode() + done.stderr.decode()
            raise RuntimeError(f"stockmesh {' '.join(args)} failed:\n{output}")
        return done.stdout.decode()

    def start(self, *, migrate: bool = True, timeout: float = 30.0) -> ServiceProcess:
        env = self.environment()
        if migrate:
            self.cli("migrate", self.name)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *(self.command or ("-m", "kit.cli", "serve", self.name))],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
            )
        if not self.wait_health(health_pb2.HealthCheckResponse.SERVING, timeout):
            self.stop()
            raise RuntimeError(f"svc_{self.name} did not start; log:\n{self.log_tail()}")
        return self

    @property
    def behind_sidecar(self) -> bool:
        """Mesh mode: plaintext on loopback, as behind an Istio sidecar."""
        return self.env.get("STOCKMESH_TLS_MODE") == "mesh"

    def health(self) -> int | None:
        opened = grpc.insecure_channel(self.address) if self.behind_sidecar else self.channel(self.account)
        with opened as ch:
            try:
                reply = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
            except grpc.RpcError:
                return None
            return int(reply.status)

    def wait_health(self, status: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            if self.health() == status:
                return True
            time.sleep(0.1)
        return False

    def channel(self, account: str = "dev-client") -> grpc.Channel:
        return channel(self.address, self.tls_dir, self.account, account)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Make the call, which must fail; return its decoded status details."""
    from kit import status

    with pytest.raises(grpc.RpcError) as info:
        call(*args, **kwargs)
    return status.details_of(info.value)
