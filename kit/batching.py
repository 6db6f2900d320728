"""Concurrent calls coalesced into batches: one batch in flight per key.

A hot row serialises its writers: each holds the row lock until its commit,
so the row allows only as many changes a second as commits fit in it. When
the calls for one key are instead gathered and written together, the lock is
taken once per batch and the commit is shared. No call waits for a timer:
the first call of an idle key runs at once, alone; the calls that arrive
while a batch is in flight go together in the next one, so batches grow with
the load and stay at one call when there is none.

A batch is taken a few turns of the event loop after its drain is ready to
take it (`GATHER_TURNS`), not at once: the calls already on their way to
`submit` join it rather than wait for the next one. A finished batch wakes
its drain in the turn its database reply arrived, often with requests the
server received in the same poll, and a request takes a few turns from the
server's poll to its handler. Turns, not time: idle, a call waits for a few
passes of the loop, microseconds. Under load this made batches of
reservations larger and the service faster (docs/stock.md, Throughput step
14).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kit import metrics

# Measured with the reservation benchmark, 64 clients on 200 SKUs
# (docs/stock.md, Throughput step 14): batches of 6.4 to 7.5 calls taken at
# once, about 8 after one or two turns, 9.4 after four, 9.8 after eight; the
# rate rose with them up to four turns (0.95 of the code before issue 9 at
# once, 1.00 to 1.01 after four) and no further.
GATHER_TURNS = 4

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
                for _ in range(GATHER_TURNS):  # the calls on their way join (see above)
                    await asyncio.sleep(0)
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
