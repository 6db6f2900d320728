"""One reader of the ledger per process for every live stream (PostgreSQL).

A thousand streams polling the ledger each would cost a thousand queries
every poll period, and as many pooled connections. Instead the hub holds one
connection that LISTENs for the notification every appending transaction
sends on commit (`feed_store`), reads the new movements of the announced
tenant once (with their levels), and hands each subscribed stream the ones
it matches through a bounded queue.

Exactness rests on the hub's position per tenant: every movement up to it
has been read and handed to the subscriptions registered at the time. A
subscription starts buffering at the hub's position (its base), then reads
the ledger itself from its cursor until it has passed the base, and from
then on takes its queue, dropping what it has already sent. A subscription
whose queue fills is not fed further: it starts buffering afresh at the
hub's current position and reads the ledger itself again from its cursor,
so a slow stream never holds the hub up and never loses an event.

A notification may be missed (the connection drops, a read fails). The hub
then reads every tenant's ledger from its position again: when it listens
again, and after `recheck_seconds` without a notification as a safety net.
While it is not listening its readers poll every `poll_seconds`.

Appends notify only for tenants some hub has registered as watched
(`feed_store.watch`), because a notifying commit is serialized with every
other. The hub registers a tenant before reading its position, refreshes its
registrations every `recheck_seconds`, and reads the tenant once more a
second after registering: a writer that checked just before the registration
committed sent nothing, and its commit is caught there (or, at worst, by the
re-check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any

from prometheus_client import Counter

from kit.db import Database
from kit.uow import Units
from svc_stock.ports import StockUnit
from svc_stock.store import feed as feed_store
from svc_stock.store.feed import Listener, ListenerLost
from svc_stock.usecases.tail import BATCH, LevelChange, matches, read_tail

log = logging.getLogger(__name__)

fallbacks = Counter(
    "stockmesh_watch_fallbacks_total",
    "Live streams that fell behind the shared hub (their queue filled) and read the ledger"
    " themselves until they caught up.",
)

_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
_SETTLE_SECONDS = 1.0  # longer than an appending transaction between its check and its commit


def _backoff(failures: int) -> float:
    return float(min(_BACKOFF_FIRST * 2 ** (failures - 1), _BACKOFF_MAX))


class _Tenant:
    """The hub's state for one tenant with subscribers."""

    def __init__(self, tenant_id: str, position: int) -> None:
        self.id = tenant_id
        self.position = position  # read and handed to the subscriptions up to here
        self.subscriptions: set[Subscription] = set()
        self.wake = asyncio.Event()
        self.wake.set()  # one read at once: a commit may have come before it was followed
        self.closed = False


class Subscription:
    """One stream's place at the hub: its cursor and the queue the hub fills."""

    def __init__(
        self, feed: Feed, tenant: _Tenant, warehouse_id: str | None, skus: frozenset[str], after: int
    ) -> None:
        self._feed = feed
        self._tenant = tenant
        self.warehouse_id = warehouse_id
        self.skus = skus
        self.after = after  # every matching movement up to here has been handed out
        self._queue: asyncio.Queue[LevelChange] = asyncio.Queue(feed.queue_size)
        self._base = self._position = tenant.position
        self._overflowed = False
        self._reading = True  # reading the ledger itself until past _base

    def deliver(self, changes: Sequence[LevelChange], position: int) -> None:
        """The hub's side: queue what matches of a read up to `position`."""
        if self._overflowed:
            return
        for change in changes:
            if matches(change.movement, self.warehouse_id, self.skus):
                if self._queue.full():
                    self._overflowed = True
                    return
                self._queue.put_nowait(change)
        self._position = position

    async def next(self, timeout: float) -> list[LevelChange]:
        """The stream's side: the next changes in sequence order, each once;
        empty after `timeout` seconds without any."""
        if self._overflowed:
            fallbacks.inc()
            self._rebuffer()
        if self._reading:
            return await self._catch_up()
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                taken = [await self._queue.get()]
        except TimeoutError:
            # A change queued just as the wait ran out is still in the queue.
            if not self._overflowed and self._queue.empty():
                # Everything the hub read up to its position that matches
                # has been handed out: the cursor may move past the rest.
                self.after = max(self.after, self._position)
            return []
        while len(taken) < BATCH and not self._queue.empty():
            taken.append(self._queue.get_nowait())
        fresh = [change for change in taken if change.sequence > self.after]
        if fresh:
            self.after = fresh[-1].sequence
        return fresh

    def close(self) -> None:
        self._feed.unsubscribe(self)

    def _rebuffer(self) -> None:
        """Start buffering afresh at the hub's position; the ledger has the rest."""
        self._queue = asyncio.Queue(self._feed.queue_size)
        self._base = self._position = self._tenant.position
        self._overflowed = False
        self._reading = True

    async def _catch_up(self) -> list[LevelChange]:
        base = self._base
        tail = await read_tail(
            self._feed.units,
            self._tenant.id,
            self.after,
            warehouse_id=self.warehouse_id,
            skus=self.skus,
            reader="stream",
        )
        self.after = tail.last
        if not tail.full:
            # The hub had read up to `base` before this read began, so all of
            # it was committed and this read saw it: the queue has the rest.
            self.after = max(self.after, base)
            self._reading = False
        return tail.changes


class Feed:
    """The hub: started by the first subscription, stopped with the service."""

    def __init__(
        self,
        db: Database,
        units: Units[StockUnit],
        *,
        queue_size: int,
        recheck_seconds: float,
        poll_seconds: float,
    ) -> None:
        self.db = db  # the listening connection and the watcher registry's
        self.units = units
        self.queue_size = queue_size
        self.recheck = recheck_seconds
        self.poll = poll_seconds
        self.listener = Listener(db)
        self._tenants: dict[str, _Tenant] = {}
        self._listening = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._listen_task: asyncio.Task[None] | None = None
        # This process's name in the watcher registry, unique per start.
        self.watcher = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._watch_seconds = 3 * recheck_seconds + 5.0

    async def subscribe(
        self, tenant_id: str, warehouse_id: str | None, skus: frozenset[str], after: int
    ) -> Subscription:
        """Register a stream that has handed out everything up to `after`."""
        if self._listen_task is None:
            self._listen_task = self._spawn(self._listen(), "ledger-listener")
            self._spawn(self._keep_watching(), "ledger-watch-refresh")
        if tenant_id not in self._tenants:
            # Registered first: every append committed after the position is
            # read either announces itself or is caught by the settling read.
            await feed_store.watch(self.db, self.watcher, [tenant_id], self._watch_seconds)
            async with self.units.read() as uow:
                position = await uow.ledger.last_sequence(tenant_id)
            if tenant_id not in self._tenants:  # unless another stream of the tenant came first
                tenant = self._tenants[tenant_id] = _Tenant(tenant_id, position)
                self._spawn(self._follow(tenant), f"ledger-reader-{tenant_id}")
                self._spawn(self._settle(tenant), f"ledger-settle-{tenant_id}")
        tenant = self._tenants[tenant_id]
        subscription = Subscription(self, tenant, warehouse_id, skus, after)
        tenant.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        tenant = subscription._tenant
        tenant.subscriptions.discard(subscription)
        if not tenant.subscriptions and not tenant.closed:
            # Its reader ends at its next wake, never in the middle of a read.
            tenant.closed = True
            if self._tenants.get(tenant.id) is tenant:
                del self._tenants[tenant.id]
                self._spawn(self._unwatch([tenant.id]), f"ledger-unwatch-{tenant.id}")
            tenant.wake.set()

    async def stop(self) -> None:
        for tenant in self._tenants.values():
            tenant.closed = True
        self._tenants.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._listen_task = None
        await self.listener.close()
        await self._unwatch(None)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _settle(self, tenant: _Tenant) -> None:
        await asyncio.sleep(_SETTLE_SECONDS)
        tenant.wake.set()

    async def _keep_watching(self) -> None:
        """Refresh the registrations well before they lapse."""
        while True:
            await asyncio.sleep(self.recheck)
            try:
                await feed_store.watch(self.db, self.watcher, list(self._tenants), self._watch_seconds)
            except Exception:
                log.exception("refreshing the live streams' watch failed; retrying")

    async def _unwatch(self, tenant_ids: list[str] | None) -> None:
        # Best effort: a registration left behind only lapses later. A tenant
        # followed again meanwhile keeps its registration.
        if tenant_ids is not None:
            tenant_ids = [t for t in tenant_ids if t not in self._tenants]
        try:
            await feed_store.unwatch(self.db, self.watcher, tenant_ids)
        except Exception:
            log.warning("forgetting a live-stream watch failed; it lapses by itself", exc_info=True)

    def _wake_all(self) -> None:
        for tenant in self._tenants.values():
            tenant.wake.set()

    async def _follow(self, tenant: _Tenant) -> None:
        """One tenant's reader: a read per wake (notifications that come
        during a read make one more), a re-check after `recheck` seconds."""
        failures = 0
        while True:
            if not tenant.wake.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.recheck if self._listening else self.poll):
                        await tenant.wake.wait()
            if tenant.closed:
                return
            tenant.wake.clear()
            try:
                await self._read(tenant)
                failures = 0
            except Exception:
                failures += 1
                log.exception("reading the ledger for live streams failed; retrying")
                await asyncio.sleep(_backoff(failures))
                tenant.wake.set()

    async def _read(self, tenant: _Tenant) -> None:
        while not tenant.closed:
            tail = await read_tail(self.units, tenant.id, tenant.position, reader="hub")
            # Handed out and the position moved in one step, with no await in
            # between: a subscription registered now starts at the new position.
            for subscription in list(tenant.subscriptions):
                subscription.deliver(tail.changes, tail.last)
            tenant.position = tail.last
            if not tail.full:
                return

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                await self.listener.open()
                if failures:
                    log.info("listening to the ledger again", extra={"attempts": failures})
                failures = 0
                self._listening = True
                # Whatever committed before LISTEN took effect was announced to no one.
                self._wake_all()
                while True:
                    tenants = await self.listener.wait(self.recheck)
                    if not tenants:
                        await self.listener.ping()
                    for tenant_id in tenants:
                        if (tenant := self._tenants.get(tenant_id)) is not None:
                            tenant.wake.set()
            except ListenerLost as exc:
                failures += 1
                log.warning("listening to the ledger failed", extra={"error": str(exc), "attempts": failures})
            except Exception:
                failures += 1
                log.exception("listening to the ledger failed")
            finally:
                self._listening = False
                await self.listener.close()
            # A notification may have gone with the connection: every reader
            # reads now, then polls until the hub listens again.
            self._wake_all()
            await asyncio.sleep(_backoff(failures))
