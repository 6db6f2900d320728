"""Part one: GetStockLevel and CreateOrder through the gateway against direct
gRPC at the same concurrency, with the CPU every process spent."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable

from bench.gateway.clients import CREATE, GET, Call, Run, direct, httpx_client, measure, raw_http
from bench.gateway.stack import Gateway, Stack


def print_runs(runs: list[Run], baseline_of: Callable[[Run], Run]) -> None:
    line = "{:<14} {:<22} {:>7} {:>8} {:>7} {:>7} {:>5} {:>10} {:>10}"
    print(
        line.format(
            "call", "path", "clients", "calls/s", "p50 ms", "p99 ms", "fail", "rate ×base", "p50 ×base"
        )
    )
    for run in runs:
        base = baseline_of(run)
        print(
            line.format(
                run.rpc,
                run.path,
                run.clients,
                f"{run.rate:.0f}",
                f"{run.percentile(50):.1f}",
                f"{run.percentile(99):.1f}",
                run.failures,
                f"{run.rate / base.rate:.2f}" if base.rate else "-",
                f"{run.percentile(50) / base.percentile(50):.2f}",
            )
        )
    for run in runs:
        if run.failures:
            print(f"  first failure of {run.rpc} {run.path}: {run.first_failure}")


def print_cpu(runs: list[Run]) -> None:
    names = [name for name in runs[0].cpu.groups if name != "gateway"]
    line = "{:<14} {:<22} {:>7} {:>8} " + " ".join("{:>11}" for _ in names) + " {:>6} {:>8} {:>7} {:>9} {:>9}"
    print(
        line.format(
            "call", "path", "client", "gateway", *names, "ours", "machine", "others", "client/call", "gw/call"
        )
    )
    for run in runs:
        cpu = run.cpu
        print(
            line.format(
                run.rpc,
                run.path,
                f"{cpu.client:.1f}",
                f"{cpu.groups['gateway']:.1f}",
                *(f"{cpu.groups[name]:.1f}" for name in names),
                f"{cpu.ours:.1f}",
                f"{cpu.machine:.1f}",
                f"{cpu.others:.1f}",
                f"{run.ms_per_call(cpu.client):.2f} ms",
                f"{run.ms_per_call(cpu.groups['gateway']):.2f} ms" if "gateway" in run.path else "-",
            )
        )


def part_one(stack: Stack, gateway: Gateway, args: argparse.Namespace) -> list[Run]:
    print(
        f"\n1. Gateway vs direct gRPC: {args.seconds:g} s a run after {args.warmup:g} s of warm-up; "
        "ratios against direct gRPC at the same concurrency"
    )
    meter = stack.meter(gateway)
    runs: list[Run] = []
    common = {"seconds": args.seconds, "warmup": args.warmup}
    for clients in args.clients:
        for rpc in (GET, CREATE):
            targets: list[tuple[str, contextlib.AbstractAsyncContextManager[Call]]] = [
                ("direct gRPC", direct(stack, rpc, clients)),
                ("gateway, raw HTTP/1.1", raw_http(stack, gateway.port, rpc, clients)),
            ]
            if args.httpx and rpc == GET:
                targets.append(("gateway, httpx client", httpx_client(stack, gateway.port, rpc, clients)))
            for path, target in targets:
                runs.append(
                    asyncio.run(measure(target, meter, rpc=rpc, path=path, clients=clients, **common))
                )

    def base(run: Run) -> Run:
        return next(
            r for r in runs if r.rpc == run.rpc and r.clients == run.clients and r.path == "direct gRPC"
        )

    print_runs(runs, base)
    print(
        "\nCPU seconds in each run (client: this process, time.process_time(); the rest from /proc; "
        f"machine: all busy cores, everyone's; 2 cores give {2 * args.seconds:.0f} s a run; "
        "others: machine less ours)"
    )
    print_cpu(runs)
    print()
    for run in runs:
        if run.path != "gateway, raw HTTP/1.1":
            continue
        direct_run = base(run)
        p50 = run.percentile(50) / direct_run.percentile(50)
        rate = run.rate / direct_run.rate
        print(
            f"aims, {run.rpc} at {run.clients} clients: p50 {p50:.2f}× direct (aim ≤ 1.5×: "
            f"{'met' if p50 <= 1.5 else 'missed'}), rate {rate:.2f}× direct (aim ≥ 0.6×: "
            f"{'met' if rate >= 0.6 else 'missed'})"
        )
    return runs
