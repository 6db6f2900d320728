"""Per-caller token buckets: shared in Redis when it is configured, per replica in memory otherwise.

A bucket holds up to `burst` tokens and refills continuously at `rate_per_second`;
each request takes one. Redis keeps one bucket per caller for all replicas, read,
refilled and written by one Lua script so concurrent requests cannot both spend
the last token. Rate limiting must never be why a request fails: when Redis does
not answer, the check falls back to this replica's memory (counted, logged once
per outage) and Redis is tried again only after a back-off.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger("gateway.ratelimit")

fallbacks = Counter(
    "stockmesh_gateway_ratelimit_fallback_total",
    "Rate-limit checks answered from this replica's memory because the configured Redis did not answer.",
)
redis_up = Gauge(
    "stockmesh_gateway_ratelimit_redis_up",
    "1 while Redis answers rate-limit checks, 0 while they fall back to memory (0 until it first answers).",
)

TIMEOUT_SECONDS = 0.25  # a healthy Redis answers in well under a millisecond
BACKOFF_SECONDS = 5.0  # after a failure, one request per back-off probes Redis; the rest use memory
MAX_MEMORY_KEYS = 100_000

# Redis's own errors, and socket errors or timeouts that slip past the client's wrapping.
_FAILURES = (RedisError, OSError, TimeoutError)
_NAME = re.compile(r"[!#-\[\]-~ ]+")  # printable ASCII without quote or backslash: a plain sf-string

# KEYS[1]: the bucket hash; ARGV: rate per second, burst. Time is the server's
# (microseconds, exact in a double), so replicas with skewed clocks agree. Numbers
# are written with explicit formats because Lua's default keeps only 14 digits.
# Returns {allowed 0/1, whole tokens left, µs until full, µs until one token}.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens and ts then
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000000)
else
  tokens = burst
end
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens, allowed = tokens - 1, 1
else
  retry = math.ceil((1 - tokens) / rate * 1000000)
end
local reset = math.ceil((burst - tokens) / rate * 1000000)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.0f', now))
-- a key that outlives its refill by a second vanishes; a missing key reads as a full bucket
redis.call('PEXPIRE', KEYS[1], math.ceil(reset / 1000) + 1000)
return {allowed, math.floor(tokens), reset, retry}
"""


def _ceil(seconds: float) -> int:
    """Whole seconds, rounded up, ignoring float noise below a microsecond."""
    return math.ceil(round(seconds, 6))


@dataclass(frozen=True)
class Policy:
    """A token bucket of `burst` tokens refilled continuously at `rate_per_second`."""

    rate_per_second: float
    burst: int
    name: str

    def __post_init__(self) -> None:
        rate_ok = math.isfinite(self.rate_per_second) and self.rate_per_second > 0
        if not (rate_ok and self.burst >= 1 and _NAME.fullmatch(self.name)):
            raise ValueError(f"invalid rate-limit policy {self!r}")


@dataclass(frozen=True)
class Decision:
    """The outcome of taking one token from a bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: float
    retry_after_seconds: float

    def headers(self, policy: Policy) -> list[tuple[str, str]]:
        """RateLimit and RateLimit-Policy fields as draft-ietf-httpapi-ratelimit-headers
        (revision 11) writes them, plus Retry-After when refused. Its window `w` is
        whole seconds, so a bucket advertises the time it takes to refill from empty."""
        window = max(1, _ceil(policy.burst / policy.rate_per_second))
        fields = [
            ("RateLimit", f'"{policy.name}";r={self.remaining};t={_ceil(self.reset_seconds)}'),
            ("RateLimit-Policy", f'"{policy.name}";q={policy.burst};w={window}'),
        ]
        if not self.allowed:
            fields.append(("Retry-After", str(max(1, _ceil(self.retry_after_seconds)))))
        return fields


class MemoryBuckets:
    """Buckets in this process, for a gateway without Redis or while Redis is away."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def take(self, key: str, policy: Policy, now: float | None = None) -> Decision:
        """Take one token from the bucket of `key` under `policy` (at monotonic time `now`)."""
        now = self._clock() if now is None else now
        slot = (policy.name, key)
        state = self._buckets.pop(slot, None)
        tokens = float(policy.burst)
        if state is not None:
            tokens = min(tokens, state[0] + max(0.0, now - state[1]) * policy.rate_per_second)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[slot] = (tokens, now)  # re-inserted last: the order is least recently used first
        # Callers are unbounded (any address on the internet), memory is not. Dropping the
        # least recently used bucket is O(1) and almost always drops one idle long enough to
        # be full again; the rare one that was not gives its caller a fresh burst, a far
        # smaller harm than a replica running out of memory.
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        rate = policy.rate_per_second
        retry = 0.0 if allowed else (1.0 - tokens) / rate
        return Decision(allowed, policy.burst, math.floor(tokens), (policy.burst - tokens) / rate, retry)


def connect(url: str, timeout_seconds: float = TIMEOUT_SECONDS) -> Redis:
    """A Redis client that gives up fast, so a dead Redis never stalls a request for long."""
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),  # a retry would only double the wait on a dead Redis
    )


class RedisBuckets:
    """Buckets in Redis, shared by every replica using the same Redis and prefix."""

    def __init__(self, client: Redis, prefix: str = "") -> None:
        self.prefix = prefix
        self._take = client.register_script(_TAKE)

    def key(self, key: str, policy: Policy) -> str:
        """The Redis key of one caller's bucket."""
        return f"{self.prefix}ratelimit:{policy.name}:{key}"

    async def take(self, key: str, policy: Policy, now: float | None = None) -> Decision:
        """Take one token from the shared bucket of `key`. `now` is ignored (it keeps the
        signature of `MemoryBuckets.take`): the server's clock decides, for all replicas."""
        reply = await self._take(keys=[self.key(key, policy)], args=[policy.rate_per_second, policy.burst])
        allowed, remaining, reset_us, retry_us = (int(v) for v in reply)
        return Decision(bool(allowed), policy.burst, remaining, reset_us / 1e6, retry_us / 1e6)


DEFAULT_SUBJECT_POLICY = Policy(rate_per_second=10.0, burst=50, name="subject")
# Many callers may share one address (offices, carrier NAT), so it gets more room.
DEFAULT_ADDRESS_POLICY = Policy(rate_per_second=50.0, burst=200, name="address")


class RateLimiter:
    """The gateway's limits: one bucket per subject (JWT subject and tenant) and one per address."""

    def __init__(
        self,
        redis_url: str | None,
        prefix: str = "",
        *,
        subject_policy: Policy = DEFAULT_SUBJECT_POLICY,
        address_policy: Policy = DEFAULT_ADDRESS_POLICY,
        backoff_seconds: float = BACKOFF_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.subject_policy = subject_policy
        self.address_policy = address_policy
        self.backoff_seconds = backoff_seconds
        self._clock = clock
        self._memory = MemoryBuckets(clock=clock)
        self._client = connect(redis_url, timeout_seconds) if redis_url else None
        self._shared = RedisBuckets(self._client, prefix) if self._client is not None else None
        self._up: bool | None = None  # unknown until Redis first answers or fails
        self._retry_at = 0.0

    async def check(self, subject: str | None, address: str) -> tuple[Decision, Policy]:
        """Take a token from the subject's bucket (when known) and the address's; the stricter
        decision (refused if either refuses) with its policy. An allowing bucket spends its
        token even when the other refuses: a caller pushing past one limit drains both."""
        wanted = [(address, self.address_policy)]
        if subject is not None:
            wanted.insert(0, (subject, self.subject_policy))
        outcomes = await self._take_all(wanted)
        # Refused beats allowed; among refusals the longest wait, else the fewest tokens left.
        return max(outcomes, key=lambda o: (not o[0].allowed, o[0].retry_after_seconds, -o[0].remaining))

    async def _take_all(self, wanted: list[tuple[str, Policy]]) -> list[tuple[Decision, Policy]]:
        if self._shared is not None and self._redis_worth_trying():
            try:
                outcomes = [(await self._shared.take(key, policy), policy) for key, policy in wanted]
            except _FAILURES as exc:
                self._redis_failed(exc)
            else:
                self._redis_answered()
                return outcomes
        if self._shared is not None:
            fallbacks.inc()
        return [(await self._memory.take(key, policy), policy) for key, policy in wanted]

    def _redis_worth_trying(self) -> bool:
        if self._up is not False:
            return True
        now = self._clock()
        if now < self._retry_at:
            return False
        self._retry_at = now + self.backoff_seconds  # this request probes; the others stay in memory
        return True

    def _redis_failed(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self.backoff_seconds
        redis_up.set(0)
        if self._up is not False:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning(f"rate limits fall back to memory, per replica: Redis did not answer ({reason})")
        self._up = False

    def _redis_answered(self) -> None:
        if self._up is False:
            log.info("Redis answers rate-limit checks again; limits are shared across replicas")
        self._up = True
        redis_up.set(1)

    async def close(self) -> None:
        """Close the Redis connections (on shutdown)."""
        if self._client is not None:
            await self._client.aclose()
