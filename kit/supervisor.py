"""`stockmesh up`: every service as its own process on 127.0.0.1 with mTLS,
and the REST/JSON gateway in front of them.

Issues the dev CA and certificates, applies migrations, starts each service,
waits until each reports SERVING over mTLS, starts the gateway (`python -m
gateway`, a separate program: the runtime does not import it) and waits for
its health page, then watches them all. Ctrl-C (or SIGTERM) stops them
gracefully; if one dies, the rest are stopped too.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit import migrations, services, tls
from kit.db import redacted
from kit.settings import Settings, service_account, spiffe_id

log = logging.getLogger("stockmesh.up")

DEV_CLIENT = "dev-client"  # the identity local tools (grpcurl, tests, the CLI) use
GATEWAY = "gateway"
GATEWAY_LISTEN = "127.0.0.1:8080"
GATEWAY_METRICS = "127.0.0.1:9450"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def issue_certificates(settings: Settings, accounts: list[str]) -> None:
    tls.ensure_ca(settings.tls_dir, trust_domain=settings.trust_domain)
    for account in accounts:
        tls.ensure_identity(
            settings.tls_dir, account, spiffe_id(settings.trust_domain, settings.namespace, account)
        )


def child_env(environ: dict[str, str]) -> dict[str, str]:
    """Each child finds its database in STOCKMESH_<SVC>_DATABASE_URL or its
    default SQLite file; one DATABASE_URL for all would mix their tables."""
    env = dict(environ)
    if env.pop("DATABASE_URL", None):
        log.warning("DATABASE_URL is ignored by `up`; set STOCKMESH_<SERVICE>_DATABASE_URL per service")
    return env


def wait_serving(settings: Settings, identity: tls.Identity, timeout: float) -> bool:
    """True once the service's health check answers SERVING over mTLS."""
    options = [("grpc.ssl_target_name_override", service_account(settings.service))]
    deadline = time.monotonic() + timeout
    with grpc.secure_channel(
        settings.grpc_listen, tls.channel_credentials(identity), options=options
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    return False


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """True once `url` answers 200 (False if the process exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as reply:  # noqa: S310 - our own loopback URL
                if reply.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _say(message: str) -> None:
    # Progress for the person at the terminal, whatever the log format.
    print(f"stockmesh up: {message}", file=sys.stderr, flush=True)


def up(names: list[str] | None = None, *, environ: dict[str, str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    names = names or services.available()
    env = child_env(env)
    per_service = {name: Settings.from_env(name, env) for name in names}
    first = next(iter(per_service.values()))
    issue_certificates(first, [*(service_account(n) for n in names), GATEWAY, DEV_CLIENT])
    for name, settings in per_service.items():
        _say(f"migrating {services.package(name)} ({redacted(settings.database_url)})")
        migrations.upgrade(name, settings.database_url)
    children: list[Child] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    client = tls.load(first.tls_dir, DEV_CLIENT)
    try:
        for i, (name, settings) in enumerate(per_service.items(), start=1):
            label = services.package(name)
            _say(f"[{i}/{len(names) + 1}] starting {label} on {settings.grpc_listen} ...")
            process = subprocess.Popen([sys.executable, "-m", "kit.cli", "serve", name], env=env)
            children.append(Child(label, process))
            if not wait_serving(settings, client, timeout=30.0):
                log.error("%s did not become SERVING within 30 s; stopping", label)
                return 1
            _say(f"[{i}/{len(names) + 1}] {label} SERVING (mTLS), metrics on {settings.metrics_listen}")
        listen = env.get("STOCKMESH_GATEWAY_LISTEN", GATEWAY_LISTEN)
        metrics = env.get("STOCKMESH_GATEWAY_METRICS_LISTEN", GATEWAY_METRICS)
        _say(f"[{len(names) + 1}/{len(names) + 1}] starting the gateway on {listen} ...")
        process = subprocess.Popen([sys.executable, "-m", GATEWAY], env=env)
        children.append(Child(GATEWAY, process))
        base = f"http://{listen}"
        if not wait_http(f"{base}/healthz", process, timeout=30.0):
            log.error("the gateway did not answer on %s within 30 s; stopping", base)
            return 1
        _say(f"[{len(names) + 1}/{len(names) + 1}] gateway ready, metrics on {metrics or 'off'}")
        _say(
            f"all up. REST base URL {base}/v1 · API docs {base}/docs · OpenAPI {base}/openapi.json\n"
            f"  operator console {base}/console (sign in with a user of `stockmesh demo` or create-admin)\n"
            f"  gRPC with client certificates from {first.tls_dir} ({DEV_CLIENT}.pem for grpcurl)\n"
            "  first time? `stockmesh create-admin` or `stockmesh demo`, then see the README. Ctrl-C stops."
        )
        while not stopping:
            for child in children:
                if child.process.poll() is not None:
                    log.error("%s exited with %s; stopping the rest", child.name, child.process.returncode)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        if children:
            _say(f"stopping {len(children)} processes ...")
        killed = _stop_all(children, grace=first.grace_seconds + 5)
        if children:
            # The last line: the terminal is free and every port released.
            forced = f" ({', '.join(killed)} killed after the grace period)" if killed else ""
            _say(f"stopped: every process has exited{forced}.")


def _stop_all(children: list[Child], grace: float) -> list[str]:
    """SIGTERM to each, then wait up to `grace`; returns the ones killed."""
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    killed = []
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
            killed.append(child.name)
    return killed
