"""Concurrent calls coalesced into batches: one batch in flight per key.

A hot row serialises its writers: each holds the row lock until its commit,
so the row allows only as many changes a second as commits fit in it. When
the calls for one key are instead gathered and written together, the lock is
taken once per batch and the commit is shared. No call waits for a timer:
the first call of an idle key runs at once, alone; the calls that arrive
while a batch is in flight go together in the next one, so batches grow with
the load and stay at one call when there is none.

A batch is taken one turn of the event loop after its drain is ready to take
it: the calls whose handlers were already scheduled then (a server hands over
every request one poll brought in the same turn, and a finished batch wakes
its drain in the turn its database reply arrived) join it rather than wait
for the next one. Under load that made batches of reservations a sixth
larger and the service 3 % faster (docs/stock.md, Throughput step 14); idle,
it costs one turn of the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kit import metrics

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Queue(Generic[T, R]):
    waiting: list[tuple[T, asyncio.Future[R]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class Coalescer(Generic[T, R]):
    """`submit(key, item)` returns `run(key, batch)`'s result for that item.

    `run` gets the items in arrival order and returns one result per item;
    if it raises, every caller in that batch gets the exception. A caller
    that is cancelled while its batch runs does not stop the batch: as with a
    client that hangs up after the server wrote, the work is done anyway. One
    cancelled before its batch starts is left out of it.
    """

    def __init__(
        self, name: str, run: Callable[[str, list[T]], Awaitable[Sequence[R]]], *, max_batch: int
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run = run
        self._sizes = metrics.batch_size.labels(batch=name)
        self.max_batch = max_batch
        self._queues: dict[str, _Queue[T, R]] = {}

    async def submit(self, key: str, item: T) -> R:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue.waiting.append((item, future))
        if queue.task is None:
            # A context of its own: the batch serves many calls, so it must
            # not carry the first caller's request id or identity.
            queue.task = asyncio.create_task(self._drain(key, queue), context=contextvars.Context())
        return await future

    async def _drain(self, key: str, queue: _Queue[T, R]) -> None:
        try:
            while queue.waiting:
                await asyncio.sleep(0)  # one turn: the calls ready to submit join (see above)
                taken = queue.waiting[: self.max_batch]
                del queue.waiting[: self.max_batch]
                # A caller that gave up before its batch started is left out.
                batch = [(item, future) for item, future in taken if not future.done()]
                if batch:
                    self._sizes.observe(len(batch))
                    await self._settle(key, batch)
        except asyncio.CancelledError:
            for _, future in queue.waiting:
                future.cancel()
            raise
        finally:
            queue.task = None
            if not queue.waiting and self._queues.get(key) is queue:
                del self._queues[key]

    async def _settle(self, key: str, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run(key, [item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
