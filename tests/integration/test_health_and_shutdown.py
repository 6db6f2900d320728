"""Health follows the database; SIGTERM drains calls in flight and exits cleanly."""

from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from grpc import StatusCode
from grpc_health.v1 import health_pb2

from stockmesh.user.v1 import user_pb2
from tests import harness
from tests.conftest import PASSWORD, Tenant, create_tenant, new_id
from tests.support.tcp_proxy import TcpProxy

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def database_behind_a_proxy() -> Iterator[tuple[str, TcpProxy]]:
    with harness.postgres_database() as url:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        port = proxy.start()
        netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
        yield urlunsplit(parts._replace(netloc=netloc)), proxy
        proxy.close()


def test_health_goes_not_serving_while_the_database_is_unreachable(
    database_behind_a_proxy: tuple[str, TcpProxy], tls_dir: Path, tmp_path: Path
) -> None:
    url, proxy = database_behind_a_proxy
    service = harness.ServiceProcess("user", tmp_path, tls_dir, url).start()
    slug, email = create_tenant(url)
    try:
        with service.channel() as channel:
            tenant = Tenant(slug, email, channel)

            proxy.cut()
            went_down = service.wait_health(NOT_SERVING, timeout=10)
            refusal = harness.refused(tenant.login)
            proxy.restore()
            came_back = service.wait_health(SERVING, timeout=15)

            assert went_down
            assert (refusal.code, refusal.reason) == (StatusCode.UNAVAILABLE, "DATABASE_UNAVAILABLE")
            assert came_back
            assert tenant.login().user.email == email
    finally:
        service.stop()


def logins_in_flight(service: harness.ServiceProcess) -> int:
    """Logins the server has started and not yet answered, from its metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{service.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    started = handled = 0.0
    for line in text.splitlines():
        if 'grpc_method="Login"' not in line:
            continue
        if line.startswith("grpc_server_started_total"):
            started += float(line.rsplit(" ", 1)[1])
        elif line.startswith("grpc_server_handled_total"):
            handled += float(line.rsplit(" ", 1)[1])
    return int(started - handled)


def test_sigterm_lets_calls_in_flight_finish_then_exits_zero(tls_dir: Path, tmp_path: Path) -> None:
    service = harness.ServiceProcess("user", tmp_path, tls_dir, f"sqlite:///{tmp_path / 'user.db'}").start()
    slug, email = create_tenant(service.database_url)
    with service.channel() as channel:
        tenant = Tenant(slug, email, channel)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            calls = [
                pool.submit(
                    tenant.auth.Login,
                    user_pb2.LoginRequest(request_id=new_id(), tenant=slug, email=email, password=PASSWORD),
                    timeout=20,
                )
                for _ in range(8)
            ]
            in_flight = 0
            deadline = time.monotonic() + 10
            while not in_flight and time.monotonic() < deadline:
                in_flight = logins_in_flight(service)
            exit_code = service.stop()
            outcomes = [call.exception() for call in calls]

    assert in_flight > 0
    assert exit_code == 0
    finished = [o for o in outcomes if o is None]
    refused = [o.code() for o in outcomes if o is not None]  # type: ignore[attr-defined]
    assert len(finished) >= in_flight, "every call in flight at SIGTERM completes"
    # Calls that had not reached a handler are refused, never half-done.
    assert set(refused) <= {StatusCode.UNAVAILABLE, StatusCode.CANCELLED}
    logged = [json.loads(line) for line in service.log_path.read_text().splitlines() if line.startswith("{")]
    assert logged[-1]["message"] == "stopped"
