"""`python -m bench.scale`: the arguments, then per size: start, seed, measure;
at the end the table, and the plans of what grew."""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import bench.scale
from bench.scale.measure import Budget, Result, footnotes, growing, measure, table
from bench.scale.operations import Operation, operations
from bench.scale.plans import print_plans
from bench.scale.seed import Seeded, seed
from bench.scale.stack import Stack, started
from tests import harness


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=bench.scale.__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000], help="SKUs per run")
    parser.add_argument("--calls", type=int, default=200, help="measured calls per operation and size")
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="stop an operation's calls after this long (once it has --min-calls), for slow ones",
    )
    parser.add_argument("--min-calls", type=int, default=5)
    parser.add_argument(
        "--walk-seconds",
        type=float,
        default=60.0,
        help="walking a list to its 90%% page stops after this long (the depth reached is noted)",
    )
    parser.add_argument("--plan-ratio", type=float, default=2.0, help="show plans above this p50 growth")
    parser.add_argument("--seed", type=int, default=1, help="of the generated data")
    parser.add_argument("--keep", action="store_true", help="keep the databases (their URLs are printed)")
    return parser.parse_args()


def describe(stack: Stack, seeded: Seeded) -> str:
    return (
        f"seeded {stack.size:,} products and variants, {seeded.movements:,} movements, "
        f"{seeded.reservations:,} committed orders, {seeded.low:,} low levels, "
        f"{seeded.demanded:,} SKUs with demand in 28 d, {seeded.supplier_items:,} supplier items "
        f"in {seeded.seconds:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in seeded.phases.items())}); "
        "reconciled, no drift"
    )


def run(stack: Stack, seeded: Seeded, args: argparse.Namespace) -> tuple[list[Operation], list[Result]]:
    stubs = stack.stubs()
    walked = time.perf_counter()
    ops = operations(stack, seeded, stubs, random.Random(args.seed), args.walk_seconds)  # noqa: S311
    print(f"walked to the deep page tokens in {time.perf_counter() - walked:.1f} s", flush=True)
    budget = Budget(args.calls, args.seconds, args.min_calls)
    results = []
    for op in ops:
        result = measure(op, stubs[op.service], stack.metadata, budget)
        print(f"  {op.label:<40} {result.error or result.cell()} {op.note}", flush=True)
        results.append(result)
    return ops, results


def conclude(stack: Stack, ops: list[Operation], results: dict[int, list[Result]], plan_ratio: float) -> None:
    """The table, then the plans behind what grew (the largest size's databases are still there)."""
    print("\np50 / p95 / p99 ms (calls), one call at a time over gRPC; ratio: p50 largest / smallest size")
    print("\n".join([*table(results), *footnotes(results)]))
    print(f"\nplans of the statements behind the operations whose p50 grew more than {plan_ratio}x:")
    print_plans(stack, growing(results, ops, plan_ratio))


def main() -> None:
    args = arguments()
    harness.require_postgres()
    sizes = sorted(args.sizes)
    results: dict[int, list[Result]] = {}
    began = time.perf_counter()
    print(
        f"scale benchmark: {os.cpu_count()} cores shared by this client, four services and PostgreSQL; "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        tls_dir = harness.issue_certificates(home / "tls")
        for size in sizes:
            print(f"\n{size:,} SKUs", flush=True)
            with started(size, home, tls_dir, keep=args.keep) as stack:
                seeded = seed(stack, random.Random(args.seed + size))  # noqa: S311
                print(describe(stack, seeded), flush=True)
                ops, results[size] = run(stack, seeded, args)
                if size == sizes[-1]:
                    conclude(stack, ops, results, args.plan_ratio)
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
