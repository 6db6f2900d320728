"""Cache-aside on Redis, for read use cases; the database stays the truth.

Why it looks the way it does:

- **No stale fill.** A plain "miss, read the database, SET" races a writer: a
  reader that read the old row before the writer committed can SET it after
  the writer deleted the key, and the old value then lives for a whole TTL.
  So a miss takes a short *lease* on the key (memcached's leases), and the
  fill only lands while the key still holds that lease. A writer's
  invalidation deletes leases along with values, so a fill that read the old
  row is dropped.
- **Redis is optional and may fail.** Without REDIS_URL every call is a miss
  and nothing is stored. When Redis does not answer, every call still answers
  from the database: short socket timeouts and no client-side retries keep a
  dead Redis from stalling a call, a failure pauses Redis use briefly instead
  of paying a timeout on every call, failures are counted
  (`stockmesh_cache_errors_total`) and logged as one warning per operation
  every few seconds, never a traceback per call.
- **An invalidation reaches every replica.** Replicas share one Redis, so a
  delete that lands is seen by all of them at once; an invalidation misses a
  replica only when it does not land, because the writer could not reach
  Redis. A versioned key or a pub/sub message would then be lost the same way:
  both travel through the Redis the writer cannot reach. So a write whose
  delete failed notes its keys where the write itself went, the service's
  database (`MissedLog`), and every process reads those notes at least every
  `sync_seconds` while it reads Redis, and deletes the keys before it trusts
  Redis again. Bound: once a write has returned, no process serves an entry
  it changed for longer than `sync_seconds` (0.5 s by default); while the log
  cannot be read, Redis is not read either. Left open: a writer that crashes
  between its commit and its delete, or loses the database in that instant as
  well, leaves no note; its entries may then be served until their TTL.

Keys are `{prefix}{service}:{tenant}:{kind}:{item}`; values are bytes the
caller encodes, stored with a one-byte tag that tells them from leases.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

T = TypeVar("T")
log = logging.getLogger(__name__)

requests = Counter("stockmesh_cache_requests_total", "Cache lookups by outcome, one per key.", ("result",))
failures = Counter(
    "stockmesh_cache_errors_total", "Redis calls that failed; the database answered instead.", ("operation",)
)
for _result in ("hit", "miss"):
    requests.labels(result=_result)
for _operation in ("lookup", "fill", "invalidate", "decode", "note", "sync"):
    failures.labels(operation=_operation)

DEFAULT_TTL_SECONDS = 300.0
TIMEOUT_SECONDS = 0.25  # a healthy Redis answers in well under a millisecond
LEASE_SECONDS = 10.0  # longer than any database read a fill waits for
PAUSE_SECONDS = 1.0  # after a failure, leave Redis alone this long
LOG_EVERY_SECONDS = 10.0
MAX_PENDING = 100_000  # keys whose invalidation failed; beyond this, distrust Redis for a TTL
SYNC_SECONDS = 0.5  # how often a process reads the invalidations missed anywhere
# How much later than its own time a note may become visible (the time is
# taken inside the note's transaction, a few milliseconds before it commits),
# clock differences between hosts included.
NOTE_LAG_SECONDS = 5.0

# What a Redis call that did not work raises: its own errors, and a socket
# error or timeout that slipped past the client's wrapping.
_FAILURES = (RedisError, OSError, TimeoutError)

_VALUE = b"v"
_LEASE = b"l"

# For each key: its value if there is one, else take the lease ARGV[1] (for
# ARGV[2] ms) and answer nil, so the caller knows it may fill the key.
_LOOKUP = """
local out = {}
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value then
    out[i] = value
  else
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = false
  end
end
return out
"""

# For each key still holding the lease ARGV[1]: store ARGV[i + 2] for the TTL
# (ARGV[2] ms), or give the lease back when that value is empty.
_FILL = """
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    local value = ARGV[i + 2]
    if value == '' then
      redis.call('DEL', key)
    else
      redis.call('SET', key, value, 'PX', ARGV[2])
    end
  end
end
return 0
"""


@dataclass(frozen=True)
class Missed:
    """Keys one write could not delete in Redis, as noted in the service's database."""

    id: int
    keys: tuple[str, ...]
    at: datetime


class MissedLog(abc.ABC):
    """Where a write leaves the keys it could not delete, for every process
    of the service to delete: a table of the service's database."""

    @abc.abstractmethod
    async def note(self, keys: Collection[str]) -> None: ...

    @abc.abstractmethod
    async def since(self, moment: datetime) -> list[Missed]:
        """The notes taken at `moment` or later."""


@dataclass(frozen=True)
class Lookup:
    """What a lookup found: values by key, and the missed keys this caller may fill."""

    hits: dict[str, bytes]
    leased: tuple[str, ...] = ()
    lease: bytes = b""


class Cache:
    """One service's cache; a no-op when `url` is None."""

    def __init__(
        self,
        url: str | None,
        *,
        service: str,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        prefix: str = "",
        timeout_seconds: float = TIMEOUT_SECONDS,
        missed: MissedLog | None = None,
        sync_seconds: float = SYNC_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service = service
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self.sync_seconds = sync_seconds
        self._missed = missed
        self._clock = clock
        self._client: Redis | None = None
        self._paused_until = 0.0
        self._distrusted_until = 0.0
        self._pending: set[str] = set()
        self._next_sync = 0.0
        self._synced_from: datetime | None = None  # where the next read of the notes starts
        self._seen: dict[int, datetime] = {}  # notes already taken in, within the lag
        self._replaying = asyncio.Lock()
        self._last_log: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}
        if url:
            self._client = Redis.from_url(
                url,
                socket_connect_timeout=timeout_seconds,
                socket_timeout=timeout_seconds,
                retry=Retry(NoBackoff(), 0),  # a retry would only double the wait on a dead Redis
            )
            self._lookup = self._client.register_script(_LOOKUP)
            self._fill = self._client.register_script(_FILL)

    def key(self, tenant_id: str, kind: str, item: str) -> str:
        """The key of one item; the tenant is part of it, so tenants never share an entry."""
        return f"{self.prefix}{self.service}:{tenant_id}:{kind}:{item}"

    async def lookup(self, keys: Sequence[str]) -> Lookup:
        """The cached values of `keys`; each miss is leased to this caller when
        Redis answers, so a later `fill` may store it."""
        if self._client is None:
            return Lookup({})
        if not keys or not await self._usable():
            requests.labels(result="miss").inc(len(keys))
            return Lookup({})
        lease = _LEASE + secrets.token_bytes(12)
        try:
            found = await self._lookup(keys=list(keys), args=[lease, int(LEASE_SECONDS * 1000)])
        except _FAILURES as exc:
            self._failed("lookup", exc)
            requests.labels(result="miss").inc(len(keys))
            return Lookup({})
        hits = {k: bytes(v[1:]) for k, v in zip(keys, found, strict=True) if v and v[:1] == _VALUE}
        leased = tuple(k for k, v in zip(keys, found, strict=True) if v is None)
        requests.labels(result="hit").inc(len(hits))
        requests.labels(result="miss").inc(len(keys) - len(hits))
        return Lookup(hits, leased, lease)

    async def fill(self, lookup: Lookup, values: Mapping[str, bytes]) -> None:
        """Store `values` for the keys `lookup` leased; leased keys without a
        value (nothing in the database) are released."""
        if self._client is None or not lookup.leased:
            return
        args: list[bytes | int] = [lookup.lease, int(self.ttl_seconds * 1000)]
        args += [_VALUE + values[k] if k in values else b"" for k in lookup.leased]
        try:
            await self._fill(keys=list(lookup.leased), args=args)
        except _FAILURES as exc:
            self._failed("fill", exc)

    async def invalidate(self, keys: Iterable[str]) -> None:
        """Delete `keys` (values and leases); call it after the write committed."""
        if self._client is None:
            return
        wanted = set(keys)
        if not wanted:
            return
        if time.monotonic() < self._paused_until or not await self._flush(wanted):
            self._remember(wanted)
            await self._note(wanted)

    async def get_or_load(
        self,
        key: str,
        load: Callable[[], Awaitable[T | None]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T | None:
        """The value under `key`, else what `load` reads (cached unless None)."""

        async def load_one(missing: list[str]) -> dict[str, T]:
            value = await load()
            return {key: value} if value is not None else {}

        return (await self.get_many_or_load([key], load_one, encode, decode)).get(key)

    async def get_many_or_load(
        self,
        keys: Sequence[str],
        load: Callable[[list[str]], Awaitable[Mapping[str, T]]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> dict[str, T]:
        """The values under `keys`: cached ones from Redis, the rest from one
        `load(missing keys)` call (keys it leaves out are not cached)."""
        found = await self.lookup(keys)
        values: dict[str, T] = {}
        unreadable = []
        for key, raw in found.hits.items():
            try:
                values[key] = decode(raw)
            except Exception as exc:  # noqa: BLE001 - a value we cannot read is a miss, not a failed call
                self._failed("decode", exc)
                unreadable.append(key)
        if unreadable:
            await self.invalidate(unreadable)
        missing = [k for k in keys if k not in values]
        if missing:
            loaded = await load(missing)
            await self.fill(found, {k: encode(v) for k, v in loaded.items()})
            values.update(loaded)
        return values

    async def close(self) -> None:
        """Close the connections (on shutdown)."""
        if self._client is not None:
            await self._client.aclose()

    # --- failure handling -------------------------------------------------------

    async def _usable(self) -> bool:
        """Whether Redis may be read now: not paused after a failure, the
        notes of missed invalidations read within `sync_seconds`, and every
        invalidation missed (here or in another process) made up for. Readers
        wait while one of them does that, so none reads ahead of the delete."""
        now = time.monotonic()
        if now < self._paused_until or now < self._distrusted_until:
            return False
        if self._sync_due() or self._pending or self._replaying.locked():
            async with self._replaying:
                if time.monotonic() < self._paused_until:
                    return False
                if self._sync_due() and not await self._sync():
                    return False
                if self._pending:
                    pending, self._pending = self._pending, set()
                    if not await self._flush(pending):
                        self._remember(pending)
                        return False
        return True

    def _sync_due(self) -> bool:
        return self._missed is not None and time.monotonic() >= self._next_sync

    async def _sync(self) -> bool:
        """Take in the keys whose invalidation a write missed, in any process
        since the last read (at first: within a TTL, older entries have
        expired). False when the notes could not be read."""
        assert self._missed is not None
        began, started = time.monotonic(), self._clock()
        lag = timedelta(seconds=NOTE_LAG_SECONDS)
        since = self._synced_from or started - timedelta(seconds=self.ttl_seconds) - lag
        try:
            notes = await self._missed.since(since)
        except Exception as exc:  # noqa: BLE001 - whatever the log raised, its notes are unknown
            self._failed("sync", exc)
            return False
        for note in notes:
            if note.id not in self._seen:
                self._seen[note.id] = note.at
                self._remember(set(note.keys))
        self._synced_from = started - lag
        self._seen = {n: at for n, at in self._seen.items() if at >= self._synced_from}
        self._next_sync = began + self.sync_seconds
        return True

    async def _note(self, keys: set[str]) -> None:
        if self._missed is None:
            return
        try:
            await self._missed.note(keys)
        except Exception as exc:  # noqa: BLE001 - the keys stay pending here; the TTL bounds the rest
            self._failed("note", exc)

    async def _flush(self, keys: set[str]) -> bool:
        assert self._client is not None
        try:
            await self._client.delete(*keys)
        except _FAILURES as exc:
            self._failed("invalidate", exc)
            return False
        return True

    def _remember(self, keys: set[str]) -> None:
        self._pending |= keys
        if len(self._pending) > MAX_PENDING:
            # Too many to replay: trust nothing Redis holds until it has all expired.
            self._pending.clear()
            self._distrusted_until = time.monotonic() + self.ttl_seconds

    def _failed(self, operation: str, exc: Exception) -> None:
        failures.labels(operation=operation).inc()
        now = time.monotonic()
        if operation not in ("decode", "note"):
            self._paused_until = now + PAUSE_SECONDS
        self._unlogged[operation] = self._unlogged.get(operation, 0) + 1
        if now - self._last_log.get(operation, float("-inf")) >= LOG_EVERY_SECONDS:
            log.warning(
                "cache %s failed; answering from the database: %s",
                operation,
                exc or type(exc).__name__,
                extra={"cache_operation": operation, "failures": self._unlogged[operation]},
            )
            self._last_log[operation] = now
            self._unlogged[operation] = 0
