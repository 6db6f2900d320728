"""The grpc.aio server every service runs: mTLS, the call pipeline, tracing,
health that follows the database, reflection, metrics, and a graceful stop.

A service hands `serve` a `Service`: what to register, its access rules, its
database and any background loops (sweepers). Everything else is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn

from google.protobuf import descriptor_pool
from grpc import aio
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Table

from kit import auth, idempotency, logs, metrics, tls, tracing
from kit.db import Database, redacted
from kit.mesh import files as mesh_files
from kit.mesh.authz import Authorizer, policies
from kit.peers import Workloads
from kit.pipeline import CallPipeline
from kit.settings import Settings

log = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[None]]
PURGE_SECONDS = 600.0


@dataclass
class Service:
    """What one service contributes to the common server."""

    name: str
    register: Callable[[aio.Server], None]
    service_names: Sequence[str]  # full proto names, e.g. "stockmesh.user.v1.UserService"
    rules: Mapping[str, auth.Rule]  # "/pkg.Service/Method" -> who may call it
    db: Database
    verifier: auth.TokenVerifier
    # The service's idempotency table: kit forgets its records past retention.
    idempotency_records: Table
    loops: Sequence[tuple[str, float, Loop]] = field(default_factory=list)  # name, period, body
    on_stop: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)


def check_rules(service: Service) -> None:
    """Refuse to start with an RPC that has no access rule (fail closed)."""
    pool = descriptor_pool.Default()
    missing = [
        f"/{name}/{method.name}"
        for name in service.service_names
        for method in pool.FindServiceByName(name).methods
        if f"/{name}/{method.name}" not in service.rules
    ]
    if missing:
        raise RuntimeError(f"RPCs without an access rule: {', '.join(missing)}")


class Health:
    """Health per service name, SERVING only while the database answers."""

    def __init__(self, service_names: Sequence[str]) -> None:
        self.servicer = health_aio.HealthServicer()
        self.names = ["", *service_names]
        self.serving: bool | None = None

    async def set(self, serving: bool) -> None:
        if serving == self.serving:
            return
        self.serving = serving
        state = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self.names:
            await self.servicer.set(name, state)
        log.log(
            logging.INFO if serving else logging.ERROR, "health %s", "SERVING" if serving else "NOT_SERVING"
        )

    async def follow(self, db: Database, period: float) -> None:
        while True:
            await self.set(await db.ping(timeout=max(period, 1.0)))
            await asyncio.sleep(period)


async def _run_loop(name: str, period: float, body: Loop) -> None:
    while True:
        try:
            await body()
        except Exception:
            log.exception("background loop %s failed; retrying next period", name)
        await asyncio.sleep(period)


async def serve(service: Service, settings: Settings, *, ready: Callable[[int], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then drain in-flight calls and stop."""
    check_rules(service)
    tracing.configure(settings)
    authorizer = Authorizer(
        policies(mesh_files.read(settings.mesh_dir)),
        namespace=settings.namespace,
        labels=settings.labels,
        trust_domain=settings.trust_domain,
    )
    workloads = Workloads(authorizer, workload=settings.spiffe_id, identity_from=settings.tls_mode)
    pipeline = CallPipeline(service.rules, service.verifier, workloads=workloads)
    server = aio.server(interceptors=[pipeline])
    service.register(server)
    checker = Health(service.service_names)
    health_pb2_grpc.add_HealthServicer_to_server(checker.servicer, server)
    reflection.enable_server_reflection(
        [*service.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    if settings.tls_mode == "mtls":
        identity = tls.ensure_identity(settings.tls_dir, settings.account, settings.spiffe_id)
        port = server.add_secure_port(settings.grpc_listen, tls.server_credentials(identity))
    else:
        port = server.add_insecure_port(settings.grpc_listen)
    if settings.metrics_listen:
        metrics.serve(settings.metrics_listen)
    await checker.set(await service.db.ping())
    await server.start()
    log.info(
        "serving",
        extra={
            "listen": settings.grpc_listen,
            "port": port,
            "tls": settings.tls_mode,
            "database": redacted(settings.database_url),
            "metrics": settings.metrics_listen,
        },
    )
    tasks = [asyncio.create_task(checker.follow(service.db, settings.health_probe_seconds))]

    async def purge() -> None:
        await idempotency.purge_expired(service.db, service.idempotency_records, datetime.now(UTC))

    loops = [*service.loops, ("purge-idempotency", PURGE_SECONDS, purge)]
    tasks += [asyncio.create_task(_run_loop(*loop)) for loop in loops]
    if ready is not None:
        ready(port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: draining in-flight calls", extra={"grace_seconds": settings.grace_seconds})
    # Watchers and load balancers see NOT_SERVING first, then new calls are refused
    # while the calls already running get up to the grace period to finish.
    await checker.servicer.enter_graceful_shutdown()
    for task in tasks:
        task.cancel()
    stopping = asyncio.create_task(server.stop(settings.grace_seconds))
    await asyncio.sleep(0)  # new calls are refused from here: a reconnect goes elsewhere
    if ended := pipeline.end_streams():
        log.info("ended open streams", extra={"streams": ended})
    await stopping
    for hook in service.on_stop:
        with contextlib.suppress(Exception):
            await hook()
    await service.db.dispose()
    log.info("stopped")


def run(build: Callable[[Settings], Awaitable[Service]], settings: Settings) -> None:
    """Entry point of a service process; after a clean stop the process ends
    at once."""
    logs.configure(settings.service, settings.log_level, settings.log_format)
    asyncio.run(_main(build, settings))
    exit_now(0)


def exit_now(code: int) -> NoReturn:
    """End a process that has drained, closed and flushed everything, without
    tearing down the interpreter's objects (every module, descriptor pool and
    engine): that costs seconds of CPU on a busy machine, long enough for a
    supervisor's grace period to run out. Spans and logs are flushed first."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _main(build: Callable[[Settings], Awaitable[Service]], settings: Settings) -> None:
    await serve(await build(settings), settings)
