"""Token buckets in the real Redis: the same semantics as in memory, one bucket for
every replica, exact under concurrency, gone when idle; and with Redis unreachable,
from the start or cut mid-run, every check still answers, from memory."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest
import redis
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from gateway.ratelimit import Policy, RateLimiter, RedisBuckets, connect
from tests import harness
from tests.support.tcp_proxy import TcpProxy

# Slow enough that the milliseconds a test takes refill nothing worth a token.
SLOW = Policy(rate_per_second=0.01, burst=5, name="subject")
ADDRESS = Policy(rate_per_second=0.01, burst=1000, name="address")
ALICE, OFFICE = "alice@acme", "203.0.113.7"


class Clock:
    """A monotonic clock the test moves by hand (it times the back-off, not Redis)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def prefix() -> Iterator[str]:
    harness.require_redis()
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(harness.REDIS)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
async def client(prefix: str) -> AsyncIterator[Redis]:
    client = connect(harness.REDIS)
    yield client
    await client.aclose()


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def fallbacks() -> float:
    return metric("stockmesh_gateway_ratelimit_fallback_total")


def redis_up() -> float:
    return metric("stockmesh_gateway_ratelimit_redis_up")


async def test_a_shared_bucket_allows_its_burst_then_refuses_and_tells_when_to_retry(
    client: Redis, prefix: str
) -> None:
    buckets = RedisBuckets(client, prefix)

    decisions = [await buckets.take(ALICE, SLOW) for _ in range(7)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False, False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
    assert {d.limit for d in decisions} == {5}
    assert decisions[0].retry_after_seconds == 0
    assert decisions[-1].retry_after_seconds == pytest.approx(100, abs=1)  # one token per 100 s
    assert decisions[-1].reset_seconds == pytest.approx(500, abs=1)
    assert ("Retry-After", "100") in decisions[-1].headers(SLOW)
    assert await client.exists(f"{prefix}ratelimit:subject:{ALICE}") == 1


async def test_a_shared_bucket_refills_at_the_rate_of_its_policy(client: Redis, prefix: str) -> None:
    policy = Policy(rate_per_second=2.0, burst=5, name="subject")
    buckets = RedisBuckets(client, prefix)
    key = buckets.key(ALICE, policy)
    for _ in range(5):
        await buckets.take(ALICE, policy)

    # Move the bucket's last visit 1.5 s into the past rather than sleeping: three tokens.
    last_seen = int(await client.hget(key, "ts") or 0)
    await client.hset(key, "ts", str(last_seen - 1_500_000))
    after_a_while = [await buckets.take(ALICE, policy) for _ in range(4)]
    await client.hset(key, "ts", str(last_seen - 3_600_000_000))  # an hour idle: full, never more
    rested = await buckets.take(ALICE, policy)

    assert [d.allowed for d in after_a_while] == [True, True, True, False]
    assert [d.remaining for d in after_a_while] == [2, 1, 0, 0]
    assert rested.allowed
    assert rested.remaining == 4


async def test_two_replicas_share_one_bucket(prefix: str) -> None:
    first, second = connect(harness.REDIS), connect(harness.REDIS)
    try:
        replicas = [RedisBuckets(first, prefix), RedisBuckets(second, prefix)]
        decisions = [await replicas[n % 2].take(ALICE, SLOW) for n in range(7)]
        elsewhere = await RedisBuckets(first, f"{prefix}other:").take(ALICE, SLOW)
    finally:
        await first.aclose()
        await second.aclose()

    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert [d.allowed for d in decisions] == [True] * 5 + [False, False]
    assert elsewhere.remaining == 4  # another prefix is another bucket


async def test_concurrent_takes_grant_exactly_the_burst(prefix: str) -> None:
    policy = Policy(rate_per_second=0.001, burst=50, name="subject")
    # A hundred connections open at once per client: on a busy machine that takes longer
    # than the limiter's fast-failing timeouts, and atomicity is the point here, not speed.
    clients = [connect(harness.REDIS, timeout_seconds=10), connect(harness.REDIS, timeout_seconds=10)]
    try:
        replicas = [RedisBuckets(c, prefix) for c in clients]
        decisions = await asyncio.gather(*(replicas[n % 2].take(ALICE, policy) for n in range(200)))
    finally:
        for c in clients:
            await c.aclose()

    assert sum(d.allowed for d in decisions) == 50
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(50))


async def test_idle_buckets_expire_once_they_would_be_full_again(client: Redis, prefix: str) -> None:
    quick = Policy(rate_per_second=100.0, burst=1, name="address")
    buckets = RedisBuckets(client, prefix)

    await buckets.take(ALICE, SLOW)  # 100 s to refill one token
    await buckets.take(OFFICE, quick)  # 10 ms to refill
    slow_ttl = await client.pttl(buckets.key(ALICE, SLOW))
    quick_key = buckets.key(OFFICE, quick)
    assert 100_000 <= slow_ttl <= 101_000
    assert 0 < await client.pttl(quick_key) <= 1_010

    for _ in range(100):  # waits for Redis to expire the key, at most 5 s
        if not await client.exists(quick_key):
            break
        await asyncio.sleep(0.05)
    assert await client.exists(quick_key) == 0
    assert (await buckets.take(OFFICE, quick)).allowed


async def test_with_redis_unreachable_every_check_answers_from_memory_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.ratelimit")
    nobody_listens = f"redis://127.0.0.1:{harness.free_port()}/15"
    clock = Clock()
    limiter = RateLimiter(nobody_listens, "unused:", subject_policy=SLOW, address_policy=ADDRESS, clock=clock)
    before = fallbacks()
    try:
        decisions = []
        for _ in range(8):
            decisions.append((await limiter.check(ALICE, OFFICE))[0])
            clock.now += 10  # past the back-off: every check probes Redis again, and fails
    finally:
        await limiter.close()

    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3  # the memory bucket still limits
    assert fallbacks() - before == 8
    assert redis_up() == 0
    ours = [r for r in caplog.records if r.name == "gateway.ratelimit"]
    assert [r.levelno for r in ours] == [logging.WARNING]
    assert "memory" in ours[0].getMessage()


async def test_killed_connections_cost_at_most_one_check_from_memory_then_redis_serves_again(
    client: Redis, prefix: str
) -> None:
    name = f"ratelimit-test-{uuid.uuid4().hex[:8]}"
    url = f"{harness.REDIS}?client_name={name}"
    limiter = RateLimiter(url, prefix, subject_policy=SLOW, address_policy=ADDRESS, backoff_seconds=0)
    try:
        first, _ = await limiter.check(ALICE, OFFICE)
        ours = [c["id"] for c in await client.client_list() if c["name"] == name]
        for connection_id in ours:
            await client.client_kill_filter(_id=connection_id)
        before = fallbacks()
        after = [(await limiter.check(ALICE, OFFICE))[0] for _ in range(4)]
        fell_back = fallbacks() - before
    finally:
        await limiter.close()
    left_in_redis = float(await client.hget(RedisBuckets(client, prefix).key(ALICE, SLOW), "tokens") or -1)

    assert first.remaining == 4
    assert ours
    assert all(d.allowed for d in after)
    assert fell_back <= 1  # the check that met the dead connection, at most
    assert left_in_redis == pytest.approx(5 - 1 - (4 - fell_back), abs=0.01)  # every other check
    assert redis_up() == 1


async def test_with_redis_cut_mid_run_checks_fall_back_then_return_to_redis(
    client: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.ratelimit")
    real = urlsplit(harness.REDIS)
    proxy = TcpProxy(real.hostname or "127.0.0.1", real.port or 6379)
    url = f"redis://127.0.0.1:{proxy.start()}{real.path}"
    clock = Clock()
    limiter = RateLimiter(url, prefix, subject_policy=SLOW, address_policy=ADDRESS, clock=clock)
    observer = RedisBuckets(client, prefix)
    try:
        before_cut = (await limiter.check(ALICE, OFFICE))[0]
        up_before = redis_up()
        proxy.cut()
        counted = fallbacks()
        during = [(await limiter.check(ALICE, OFFICE))[0] for _ in range(3)]
        clock.now += 10  # past the back-off: one probe, which fails quietly
        during.append((await limiter.check(ALICE, OFFICE))[0])
        up_during, fell_back = redis_up(), fallbacks() - counted
        proxy.restore()
        clock.now += 10
        after = (await limiter.check(ALICE, OFFICE))[0]
    finally:
        await limiter.close()
        proxy.close()

    assert before_cut.remaining == 4
    assert up_before == 1
    assert all(d.allowed for d in during)  # answered from memory: a fresh, per-replica bucket
    assert fell_back == 4
    assert up_during == 0
    assert after.remaining == 3  # Redis again: its bucket saw the first check and this one
    assert redis_up() == 1
    assert (await observer.take(ALICE, SLOW)).remaining == 2
    assert [r.levelno for r in caplog.records if r.name == "gateway.ratelimit"] == [
        logging.WARNING,
        logging.INFO,
    ]
