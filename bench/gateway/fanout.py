"""Part two: live stock fanned out to SSE subscribers on the gateway, against
one direct gRPC subscriber, and the CPU of holding the idle streams."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from grpc import aio

from bench.gateway.clients import CALL_TIMEOUT
from bench.gateway.procstat import CpuMeter, CpuUse, rss_mb, tcp_connections
from bench.gateway.stack import Gateway, Stack, pid_of
from bench.gateway.subscribers import OPEN_AT_ONCE, Board, Subscriber, open_subscribers
from stockmesh.stock.v1 import stock_pb2, stock_pb2_grpc


@dataclass
class Change:
    sku: str
    request_id: str
    call_ms: float
    returned: float
    delays: list[float]  # seconds from the call's return to each subscriber's delivery
    direct_delay: float | None
    cpu: CpuUse | None = None  # from the call to the last delivery


@dataclass
class FanOut:
    subscribers: int
    connected: int
    refusals: Counter[str]
    connect_seconds: float
    upstream_connections: int
    changes: list[Change]
    idle_before: CpuUse
    idle_after: CpuUse
    heartbeats: int
    rss_before: tuple[float, float]
    rss_after: tuple[float, float]


async def send_changes(
    stack: Stack,
    stub: stock_pb2_grpc.StockServiceAsyncStub,
    board: Board,
    expected: int,
    meter: CpuMeter,
    args: argparse.Namespace,
) -> list[Change]:
    """Receipts one at a time, each once every subscriber has had the one before (or the timeout passed)."""
    changes: list[Change] = []
    for k in range(args.changes):
        sku = stack.skus[k % len(stack.skus)]
        request_id = str(uuid.uuid4())
        reached = board.expect(board.count + expected)
        start = meter.sample()
        called = time.perf_counter()
        await stub.ReceiveStock(
            stock_pb2.ReceiveStockRequest(
                request_id=request_id,
                warehouse=stack.warehouse,
                lines=[stock_pb2.StockLine(sku=sku, quantity=1)],
            ),
            metadata=stack.metadata,
            timeout=CALL_TIMEOUT,
        )
        returned = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reached, args.delivery_timeout)
        cpu = meter.since(start)
        changes.append(Change(sku, request_id, 1000 * (returned - called), returned, [], None, cpu))
        await asyncio.sleep(args.gap)
    return changes


def attribute(changes: list[Change], live: list[Subscriber], direct_seen: dict[str, float]) -> None:
    """Each delivery's delay, found by the movement's request id."""
    by_request = {change.request_id: change for change in changes}
    for subscriber in live:
        for arrived, block in subscriber.events:
            data = next((line[6:] for line in block.split(b"\n") if line.startswith(b"data: ")), b"{}")
            movement = json.loads(data).get("movement", {})
            change = by_request.get(movement.get("requestId", ""))
            if change is not None:
                change.delays.append(arrived - change.returned)
    for change in changes:
        if change.request_id in direct_seen:
            change.direct_delay = direct_seen[change.request_id] - change.returned


async def fan_out(stack: Stack, gateway: Gateway, args: argparse.Namespace) -> FanOut:
    stock_process = stack.services["stock"]
    stock_pids = pid_of(stock_process)
    meter = CpuMeter({"gateway": gateway.pids, "svc_stock": stock_pids})
    start = meter.sample()
    await asyncio.sleep(args.idle_seconds / 2)
    idle_before = meter.since(start)
    rss_before = (rss_mb(gateway.pids()), rss_mb(stock_pids()))

    # The bare baseline: one subscriber straight on svc_stock over gRPC.
    channel = stack.channel("stock")
    stub = stock_pb2_grpc.StockServiceStub(channel)
    direct_seen: dict[str, float] = {}
    watch = stub.WatchStockLevels(
        stock_pb2.WatchStockLevelsRequest(parent=stack.warehouse), metadata=stack.metadata, timeout=3600
    )
    await watch.initial_metadata()

    async def follow() -> None:
        with contextlib.suppress(asyncio.CancelledError, aio.AioRpcError):
            async for message in watch:
                if message.type == stock_pb2.WATCH_EVENT_TYPE_CHANGE:
                    direct_seen.setdefault(message.movement.request_id, time.perf_counter())

    following = asyncio.create_task(follow())
    board = Board()
    live, refusals, connect_seconds = await open_subscribers(stack, gateway, args.subscribers, board)
    await asyncio.sleep(1.0)
    upstream = tcp_connections(gateway.pids(), stock_process.port)
    changes = await send_changes(stack, stub, board, len(live), meter, args)
    attribute(changes, live, direct_seen)

    heartbeats = sum(s.heartbeats for s in live)
    start = meter.sample()
    await asyncio.sleep(args.idle_seconds)
    idle_after = meter.since(start)
    heartbeats = sum(s.heartbeats for s in live) - heartbeats
    rss_after = (rss_mb(gateway.pids()), rss_mb(stock_pids()))

    for subscriber in live:
        subscriber.close()
    watch.cancel()
    following.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await following
    await channel.close(None)
    await asyncio.sleep(1.0)
    return FanOut(
        args.subscribers,
        len(live),
        refusals,
        connect_seconds,
        upstream,
        changes,
        idle_before,
        idle_after,
        heartbeats,
        rss_before,
        rss_after,
    )


def ms(values: Sequence[float], q: int | None) -> str:
    if not values:
        return "-"
    if q is None:
        return f"{1000 * max(values):.1f}"
    if len(values) < 2:
        return f"{1000 * values[0]:.1f}"
    return f"{1000 * statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.1f}"


def part_two(result: FanOut, args: argparse.Namespace) -> None:
    print(
        f"\n2. Live-stock fan-out: {result.subscribers} SSE subscribers on one gateway, "
        f"{len(result.changes)} receipts {args.gap:.0f} s apart; delay from ReceiveStock's return "
        "to each delivery; base: one direct gRPC WatchStockLevels subscriber of the same changes"
    )
    print(
        f"connected: {result.connected} of {result.subscribers} in {result.connect_seconds:.1f} s "
        f"({OPEN_AT_ONCE} at a time); gateway → svc_stock TCP connections: {result.upstream_connections}"
    )
    for reason, count in result.refusals.most_common():
        print(f"  refused or failed ×{count}: {reason}")
    print(
        "(gateway CPU, svc_stock: CPU from the call to the last delivery, the gateway's also per event "
        "delivered; a negative delay: delivered before the call's reply reached this process)"
    )
    line = "{:<7} {:<11} {:>13} {:>10} {:>8} {:>8} {:>8} {:>10} {:>12} {:>10} {:>10}"
    print(
        line.format(
            "change",
            "sku",
            "ReceiveStock",
            "delivered",
            "p50 ms",
            "p99 ms",
            "max ms",
            "direct ms",
            "gateway CPU",
            "per event",
            "svc_stock",
        )
    )
    every: list[float] = []
    directs: list[float] = []
    for k, change in enumerate(result.changes, 1):
        every += change.delays
        if change.direct_delay is not None:
            directs.append(change.direct_delay)
        gateway_cpu = change.cpu.groups["gateway"] if change.cpu else float("nan")
        stock_cpu = change.cpu.groups["svc_stock"] if change.cpu else float("nan")
        print(
            line.format(
                k,
                change.sku,
                f"{change.call_ms:.1f} ms",
                f"{len(change.delays)}/{result.connected}",
                ms(change.delays, 50),
                ms(change.delays, 99),
                ms(change.delays, None),
                ms([change.direct_delay], 50) if change.direct_delay is not None else "-",
                f"{1000 * gateway_cpu:.0f} ms",
                f"{1e6 * gateway_cpu / max(len(change.delays), 1):.0f} µs",
                f"{1000 * stock_cpu:.0f} ms",
            )
        )
    print(
        line.format(
            "all",
            "",
            "",
            f"{len(every)}/{result.connected * len(result.changes)}",
            ms(every, 50),
            ms(every, 99),
            ms(every, None),
            ms(directs, 50),
            "",
            "",
            "",
        )
    )
    if every and directs:
        base, p50 = statistics.median(directs), statistics.median(every)
        ratio = f"{p50 / base:.1f}× the direct subscriber's" if base > 0 else "against a direct subscriber's"
        print(
            f"p50 of every delivery {1000 * p50:.1f} ms: {ratio} median {1000 * base:.1f} ms; "
            f"the gateway adds {1000 * (p50 - base):.1f} ms at the median"
        )
    before, after = result.idle_before, result.idle_after
    print(
        f"\nidle CPU, % of one core (heartbeats only; svc_stock heartbeats every 15 s; "
        f"{result.heartbeats} heartbeats reached the subscribers in the {after.wall:.0f} s)"
    )
    line = "{:<10} {:>22} {:>26} {:>12}"
    print(
        line.format(
            "process",
            f"no streams ({before.wall:.0f} s)",
            f"{result.connected} streams ({after.wall:.0f} s)",
            "RSS MB",
        )
    )
    for k, name in enumerate(("gateway", "svc_stock")):
        print(
            line.format(
                name,
                f"{before.percent(name):.1f} %",
                f"{after.percent(name):.1f} %",
                f"{result.rss_before[k]:.0f} → {result.rss_after[k]:.0f}",
            )
        )
    print(
        line.format(
            "client",
            f"{100 * before.client / before.wall:.1f} %",
            f"{100 * after.client / after.wall:.1f} %",
            "",
        )
    )
