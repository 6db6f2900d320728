"""kit.batching: concurrent calls for one key are gathered into batches, one
batch in flight per key, without waiting for a timer."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable

import pytest

from kit.batching import GATHER_TURNS, Coalescer

caller = contextvars.ContextVar("caller", default="")


async def settle() -> None:
    """Let every task that can run, run: submitted calls start their batches."""
    for _ in range(GATHER_TURNS + 5):
        await asyncio.sleep(0)


class Recorder:
    """A batch function that remembers its batches and can be held open."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.seen_callers: list[str] = []

    async def run(self, key: str, items: list[int]) -> list[int]:
        self.batches.append((key, items))
        self.seen_callers.append(caller.get())
        await self.release.wait()
        if any(i < 0 for i in items):
            raise ValueError("negative")
        return [i * 10 for i in items]


async def test_the_first_call_of_an_idle_key_runs_at_once_alone() -> None:
    recorder = Recorder()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    assert await coalescer.submit("t", 1) == 10
    assert recorder.batches == [("t", [1])]


async def test_calls_that_arrive_while_a_batch_runs_go_together_in_the_next() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    first = asyncio.create_task(coalescer.submit("t", 1))
    await settle()
    rest = [asyncio.create_task(coalescer.submit("t", i)) for i in (2, 3, 4)]
    await settle()
    recorder.release.set()

    assert list(await asyncio.gather(first, *rest)) == [10, 20, 30, 40]
    assert recorder.batches == [("t", [1]), ("t", [2, 3, 4])]


async def test_calls_on_their_way_as_a_batch_ends_join_the_next_one() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    first = asyncio.create_task(coalescer.submit("t", 1))
    await settle()
    waiting = asyncio.create_task(coalescer.submit("t", 2))
    await settle()
    recorder.release.set()
    # Scheduled in the very turn the first batch ends, as a request the
    # server received with the database's reply would be, and a couple of
    # turns away from submitting, as one on its way to its handler is.
    late = asyncio.create_task(after_turns(2, coalescer.submit("t", 3)))

    assert list(await asyncio.gather(first, waiting, late)) == [10, 20, 30]
    assert recorder.batches == [("t", [1]), ("t", [2, 3])]


async def after_turns(turns: int, call: Awaitable[int]) -> int:
    for _ in range(turns):
        await asyncio.sleep(0)
    return await call


async def test_a_batch_holds_at_most_max_batch_calls() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer("test", recorder.run, max_batch=2)

    calls = [asyncio.create_task(coalescer.submit("t", i)) for i in range(5)]
    await settle()
    recorder.release.set()
    await asyncio.gather(*calls)

    assert [items for _, items in recorder.batches] == [[0, 1], [2, 3], [4]]


async def test_keys_are_batched_apart_and_run_side_by_side() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    calls = [asyncio.create_task(coalescer.submit(key, 1)) for key in ("a", "b")]
    await settle()
    assert sorted(key for key, _ in recorder.batches) == ["a", "b"]  # both in flight at once
    recorder.release.set()
    assert list(await asyncio.gather(*calls)) == [10, 10]


async def test_a_failed_batch_fails_each_of_its_calls_and_the_next_batch_still_runs() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    first = asyncio.create_task(coalescer.submit("t", -1))
    await settle()
    second = asyncio.create_task(coalescer.submit("t", 2))
    recorder.release.set()

    with pytest.raises(ValueError, match="negative"):
        await first
    assert await second == 20


async def test_a_call_cancelled_before_its_batch_starts_is_left_out_of_it() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    first = asyncio.create_task(coalescer.submit("t", 1))
    await settle()
    gone = asyncio.create_task(coalescer.submit("t", 2))
    kept = asyncio.create_task(coalescer.submit("t", 3))
    await settle()
    gone.cancel()
    recorder.release.set()

    assert list(await asyncio.gather(first, kept)) == [10, 30]
    assert recorder.batches == [("t", [1]), ("t", [3])]


async def test_a_batch_does_not_run_in_its_first_callers_context() -> None:
    recorder = Recorder()
    coalescer = Coalescer("test", recorder.run, max_batch=8)

    caller.set("request-1")
    await coalescer.submit("t", 1)

    assert recorder.seen_callers == [""]
