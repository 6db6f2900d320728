"""Reservation throughput through the full gRPC stack, against a bare
conditional UPDATE loop on the same PostgreSQL, in one run.

    make bench                     # or: .venv/bin/python -m bench.reservations --clients 32 64 --replicas 2
    make bench ARGS="--against 9ea6172 --rounds 5"

Prints reservations per second on one hot SKU and on many SKUs, p50/p99
latency, and each rate as a ratio of the bare loop's rate at the same
concurrency. With `--against REV` the services of that revision of this
repository run too, on databases of their own, and each round measures both
codes one after the other (in turns first), right after that round's bare
loop: the machine's drift, which moves the rates of runs minutes apart by a
third, then falls on both alike. Needs PostgreSQL at STOCKMESH_TEST_POSTGRES
(default postgresql://root@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import psycopg
from grpc import aio

from bench.stack import Stack, autovacuum_off, exported, started
from kit import tls
from stockmesh.stock.v1 import stock_pb2 as pb
from stockmesh.stock.v1 import stock_pb2_grpc
from tests import harness

CHANNELS = 4  # client connections in all, shared out over the svc_stock processes


async def run_for(
    seconds: float, clients: int, call: Callable[[int], Awaitable[bool]]
) -> tuple[float, list[float], int]:
    """Each client calls in a loop until time is up: (rate of successes, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await call(n)
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies, failures


async def bare_loop(url: str, seconds: float, clients: int, rows: int) -> float:
    """The floor: one conditional UPDATE per reservation, autocommit, no RPC."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("DROP TABLE IF EXISTS bench_levels")
        await conn.execute("CREATE TABLE bench_levels (id int PRIMARY KEY, on_hand bigint, reserved bigint)")
        await conn.execute(
            "INSERT INTO bench_levels SELECT g, 1000000000, 0 FROM generate_series(0, %s) g", (rows - 1,)
        )
    connections = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(clients)]

    async def call(n: int) -> bool:
        row = n % rows
        cursor = await connections[n].execute(
            "UPDATE bench_levels SET reserved = reserved + 1 WHERE id = %s AND on_hand - reserved >= 1",
            (row,),
        )
        return cursor.rowcount == 1

    rate, _, _ = await run_for(seconds, clients, call)
    for conn in connections:
        await conn.close()
    return rate


async def full_stack(
    stack: Stack, skus: list[str], seconds: float, clients: int
) -> tuple[float, list[float], int]:
    """CreateReservation of one unit through a stack's svc_stock processes."""
    # Calls go round-robin over the svc_stock processes, as the mesh spreads
    # requests over pods (per request, not per connection).
    stocks, warehouse = stack.stocks, stack.warehouse
    identity = tls.load(stocks[0].tls_dir, "dev-client")
    per_process = max(1, CHANNELS // len(stocks))
    channels = [
        aio.secure_channel(
            stock.address,
            tls.channel_credentials(identity),
            options=[("grpc.ssl_target_name_override", "svc-stock")],
        )
        for _ in range(per_process)
        for stock in stocks
    ]
    stubs = [stock_pb2_grpc.ReservationServiceStub(c) for c in channels]
    metadata = (("authorization", f"Bearer {stack.token}"),)

    async def call(n: int) -> bool:
        sku = skus[n % len(skus)] if len(skus) > 1 else skus[0]
        request = pb.CreateReservationRequest(
            request_id=str(uuid.uuid4()),
            reservation=pb.Reservation(
                reference="orders/bench", lines=[pb.ReservationLine(warehouse=warehouse, sku=sku, quantity=1)]
            ),
        )
        try:
            await stubs[n % len(stubs)].CreateReservation(request, metadata=metadata, timeout=30)
        except grpc.RpcError:
            return False
        return True

    result = await run_for(seconds, clients, call)
    for channel in channels:
        await channel.close(None)
    return result


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


LINE = "{:<10} {:>7} {:<14} {:>12} {:>8} {:>8} {:>14} {:>6} {:>6}"
HEADER = (
    "workload",
    "clients",
    "code",
    "full stack/s",
    "p50 ms",
    "p99 ms",
    "bare UPDATE/s",
    "ratio",
    "failed",
)
Runs = dict[tuple[str, int, str], list[float]]  # (workload, clients, code) -> one figure per round


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument(
        "--clients",
        type=int,
        nargs="+",
        default=[32, 64],
        help="concurrent clients; each count is run against both the bare loop and the full stack",
    )
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        help="svc_stock processes (two pods, the least a deployment runs), each on its own port; "
        "calls go round-robin over them, as the mesh spreads them over pods",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also run the services of this git revision and compare, round by round (e.g. main, a commit)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="rounds per client count; medians are printed")
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="unmeasured seconds of load on each code before the first round",
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    harness.require_postgres()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as context:
        home = Path(tmp)
        tls_dir = harness.issue_certificates(home / "tls")

        def stack(code: str, root: Path) -> Stack:
            (home / code).mkdir()
            return context.enter_context(
                started(code, root, home / code, tls_dir, replicas=args.replicas, skus=args.skus)
            )

        stacks = [stack("this checkout", harness.ROOT)]
        if args.against:
            stacks.append(stack(args.against, context.enter_context(exported(args.against))))
        bare_db = context.enter_context(harness.postgres_database())
        if args.warmup > 0:
            for each in stacks:
                asyncio.run(full_stack(each, each.skus[:1], args.warmup, max(args.clients)))
        analyze = autovacuum_off()
        if analyze:
            print(
                "autovacuum is off on this server: svc_stock's tables are analyzed before each run, "
                "as autovacuum would have"
            )
        print(
            f"reservations, {args.seconds:.0f} s a run, PostgreSQL, {args.replicas} svc_stock "
            "process(es); ratio = full stack / bare UPDATE loop at the same concurrency, in the same round"
        )
        print(LINE.format(*HEADER), flush=True)
        rates: Runs = {}
        ratios: Runs = {}
        for clients in args.clients:
            for round_ in range(args.rounds):
                bare_hot = asyncio.run(bare_loop(bare_db, args.seconds, clients, 1))
                bare_many = asyncio.run(bare_loop(bare_db, args.seconds, clients, args.skus))
                # Each code goes first in turn, so neither always runs on a warmer machine.
                order = stacks if round_ % 2 == 0 else stacks[::-1]
                workloads = (("hot SKU", 1, bare_hot), (f"{args.skus} SKUs", args.skus, bare_many))
                for label, count, bare in workloads:
                    for each in order:
                        if analyze:
                            each.analyze()
                        run = full_stack(each, each.skus[:count], args.seconds, clients)
                        rate, latencies, failures = asyncio.run(run)
                        key = (label, clients, each.code)
                        rates.setdefault(key, []).append(rate)
                        ratios.setdefault(key, []).append(rate / bare)
                        cells = (
                            label,
                            clients,
                            each.code[:14],
                            f"{rate:.0f}",
                            f"{percentile(latencies, 50):.1f}",
                            f"{percentile(latencies, 99):.1f}",
                            f"{bare:.0f}",
                            f"{rate / bare:.2f}",
                            failures,
                        )
                        print(LINE.format(*cells), flush=True)
        if args.rounds > 1 or len(stacks) > 1:
            summarize(rates, ratios, [s.code for s in stacks])


def summarize(rates: Runs, ratios: Runs, codes: list[str]) -> None:
    """Medians over the rounds; with two codes, how this checkout's rate compares round by round."""
    print("\nmedians over the rounds (ratio range in brackets)")
    for key, values in ratios.items():
        label, clients, code = key
        print(
            f"{label:<10} {clients:>7} {code[:14]:<14} {statistics.median(rates[key]):>8.0f}/s "
            f"ratio {statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"
        )
    if len(codes) < 2:
        return
    this, other = codes
    print(f"\n{this} / {other}, full-stack rate in the same round: median (range)")
    for label, clients, code in ratios:
        if code != this:
            continue
        pairs = zip(rates[label, clients, this], rates[label, clients, other], strict=True)
        quotients = [a / b for a, b in pairs]
        print(
            f"{label:<10} {clients:>7} {statistics.median(quotients):.2f} "
            f"({min(quotients):.2f}-{max(quotients):.2f})"
        )


if __name__ == "__main__":
    main()
