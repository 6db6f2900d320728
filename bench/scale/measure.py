"""One call at a time, timed from the client, and the table of the results."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from bench.scale.operations import Operation
from bench.scale.stack import rpc_error

TIMEOUT = 600.0
WARMUP = 3


@dataclass(frozen=True)
class Budget:
    calls: int  # at most this many measured calls
    seconds: float  # and no more once this long was spent on them,
    min_calls: int  # but at least this many


@dataclass(frozen=True)
class Result:
    label: str
    latencies: list[float] = field(default_factory=list)  # seconds
    error: str = ""
    note: str = ""

    def percentile(self, q: int) -> float:
        """In milliseconds; with fewer than 100 calls interpolated between them."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000

    def cell(self) -> str:
        if self.error:
            return "failed"
        p50, p95, p99 = (self.percentile(q) for q in (50, 95, 99))
        return f"{p50:.1f} / {p95:.1f} / {p99:.1f} ({len(self.latencies)})" + (" *" if self.note else "")


def measure(operation: Operation, stub: Any, metadata: Any, budget: Budget) -> Result:
    """A few warm-up calls (fewer if slow), then calls one after the other."""
    call = getattr(stub, operation.method)
    requests = itertools.cycle(operation.requests)
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        for _ in range(WARMUP):
            call(next(requests), metadata=metadata, timeout=TIMEOUT)
            if time.perf_counter() - started > budget.seconds / 5:
                break
        started = time.perf_counter()
        while len(latencies) < budget.calls and (
            len(latencies) < budget.min_calls or time.perf_counter() - started < budget.seconds
        ):
            request = next(requests)
            before = time.perf_counter()
            call(request, metadata=metadata, timeout=TIMEOUT)
            latencies.append(time.perf_counter() - before)
    except grpc.RpcError as exc:
        return Result(operation.label, latencies, rpc_error(exc), operation.note)
    return Result(operation.label, latencies, note=operation.note)


def ratio(results: dict[int, list[Result]], index: int) -> float:
    """The largest size's p50 over the smallest size's, of one operation."""
    sizes = sorted(results)
    first, last = results[sizes[0]][index], results[sizes[-1]][index]
    if first.error or last.error:
        return float("nan")
    return last.percentile(50) / first.percentile(50)


def table(results: dict[int, list[Result]]) -> list[str]:
    """Operation × size: p50 / p95 / p99 ms (calls), and the p50 ratio of the largest to the smallest size."""
    sizes = sorted(results)
    labels = [r.label for r in results[sizes[0]]]
    width = max(map(len, labels))
    cells = {size: [r.cell() for r in results[size]] for size in sizes}
    widths = {size: max(len(f"{size:,} SKUs"), *map(len, cells[size])) for size in sizes}
    header = " | ".join(
        [f"{'operation':<{width}}", *(f"{f'{s:,} SKUs':>{widths[s]}}" for s in sizes), "p50 ratio"]
    )
    lines = [header, "-" * len(header)]
    for index, label in enumerate(labels):
        row = [f"{label:<{width}}", *(f"{cells[s][index]:>{widths[s]}}" for s in sizes)]
        lines.append(" | ".join([*row, f"{ratio(results, index):.1f}x"]))
    return lines


def footnotes(results: dict[int, list[Result]]) -> list[str]:
    """Failures, and the notes of cells marked *."""
    return [
        f"{'failed' if r.error else '*'} {size:,} SKUs, {r.label}: {r.error or r.note}"
        for size in sorted(results)
        for r in results[size]
        if r.error or r.note
    ]


def growing(
    results: dict[int, list[Result]], operations: Sequence[Operation], threshold: float
) -> list[Operation]:
    """The operations whose p50 grew more than `threshold` times from the smallest size to the largest."""
    return [op for index, op in enumerate(operations) if not ratio(results, index) <= threshold]
