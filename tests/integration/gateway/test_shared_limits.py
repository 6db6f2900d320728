"""With REDIS_URL set, gateway replicas share their callers' buckets; with
Redis gone, each falls back to its own buckets and never fails a request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import harness
from tests.conftest import Stacks
from tests.integration.gateway.conftest import GatewayProcess, start_gateway


def limited(redis_url: str, prefix: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "STOCKMESH_GATEWAY_REDIS_PREFIX": prefix,
        "STOCKMESH_GATEWAY_RATE_PER_ADDRESS": "0.1",
        "STOCKMESH_GATEWAY_BURST_PER_ADDRESS": "4",
    }


@pytest.fixture
def replicas(stacks: Stacks, tmp_path: Path) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    harness.require_redis()
    env = limited(harness.REDIS, f"test-{uuid.uuid4().hex[:8]}:")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_gateway(stacks, tmp_path / "a", env=env)
    second = start_gateway(stacks, tmp_path / "b", env=env)
    yield first, second
    first.stop()
    second.stop()


@pytest.mark.redis
def test_two_replicas_share_one_bucket_per_caller(replicas: tuple[GatewayProcess, GatewayProcess]) -> None:
    first, second = replicas
    statuses = [
        httpx.get(f"{gateway.base_url}/v1/jwks", timeout=10).status_code
        for gateway in (first, second, first, second, first, second)
    ]

    assert statuses == [200, 200, 200, 200, 429, 429]


def test_with_redis_unreachable_the_gateway_limits_from_memory_and_never_fails(
    stacks: Stacks, tmp_path: Path
) -> None:
    dead = f"redis://127.0.0.1:{harness.free_port()}/0"
    gateway = start_gateway(stacks, tmp_path, env=limited(dead, "dead:"))
    try:
        statuses = [httpx.get(f"{gateway.base_url}/v1/jwks", timeout=10).status_code for _ in range(6)]
        metrics = httpx.get(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=5).text
    finally:
        gateway.stop()

    assert statuses == [200, 200, 200, 200, 429, 429]
    assert "stockmesh_gateway_ratelimit_redis_up 0.0" in metrics
    fallbacks = next(
        line
        for line in metrics.splitlines()
        if line.startswith("stockmesh_gateway_ratelimit_fallback_total ")
    )
    assert float(fallbacks.split()[-1]) >= 6
