"""--profile: the gateway under cProfile while it serves load, and its costs
per request by component, by step of a request and by function."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import signal
import time
from pathlib import Path
from typing import Any

from bench.gateway.clients import CREATE, GET, drive, raw_http
from bench.gateway.stack import Gateway, Stack
from tests import harness

# Functions whose cumulative time is a cost of every request (none of them awaits).
COSTS = (
    ("gateway/transcode.py", "request_message", "request: HTTP → proto (path, query, JSON body)"),
    ("json_format.py", "ParseDict", "  of which protobuf ParseDict (CreateOrder's body)"),
    ("gateway/transcode.py", "response_json", "response: proto → JSON (MessageToDict + msgspec)"),
    ("json_format.py", "MessageToDict", "  of which protobuf MessageToDict"),
    (
        "opentelemetry/sdk/trace/__init__.py",
        "start_span",
        "OpenTelemetry: spans started (server + gRPC client)",
    ),
    ("opentelemetry/sdk/trace/__init__.py", "end", "OpenTelemetry: spans ended"),
    ("gateway/observe.py", "finish", "metrics + span attributes + access log line"),
    ("logging/__init__.py", "info", "  of which the JSON access log line"),
    ("gateway/routes.py", "match", "route match"),
    ("gateway/access.py", "check", "edge token check (cached verification)"),
    ("gateway/ratelimit.py", "check", "rate limit (memory buckets)"),
    (
        "opentelemetry/instrumentation/grpc/_aio_client.py",
        "intercept_unary_unary",
        "gRPC call, client interceptors",
    ),
)
COMPONENTS = (
    ("/grpc/", "gRPC client (grpc.aio)"),
    ("json_format.py", "protobuf JSON (json_format)"),
    ("/google/protobuf/", "protobuf, other"),
    ("/uvicorn/", "uvicorn"),
    ("/starlette/", "Starlette"),
    ("/opentelemetry/", "OpenTelemetry"),
    ("/prometheus_client/", "Prometheus client"),
    ("logging/", "logging"),
    ("/kit/logs.py", "logging"),
    ("/gateway/", "gateway's own code"),
    ("asyncio/", "asyncio (Python side)"),
)


def serve_profiled(out: Path) -> int:
    """`python -m gateway` with cProfile on from SIGUSR1 to SIGUSR2 (then written
    to `out`), so the profile holds requests only, not start-up."""
    from gateway.__main__ import main as serve

    # The main thread's CPU time, not the wall clock: on a shared machine the
    # wall clock would charge a function for the time the process was not running.
    profiler = cProfile.Profile(time.thread_time)

    def start(signum: int, frame: object) -> None:
        profiler.enable()

    def stop(signum: int, frame: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    return serve()


def component(key: tuple[str, int, str]) -> str:
    filename, _, name = key
    # uvloop's own C code (socket I/O, callbacks, httptools' parser) is charged to the loop's run.
    if name in ("run_until_complete", "run_forever", "run") or "uvloop.loop.Loop" in name:
        return "event loop: uvloop's C code, socket I/O"
    if filename == "~":
        for hint, label in (
            ("grpc", "gRPC client (grpc.aio)"),
            ("uvloop", "uvloop"),
            ("httptools", "uvicorn"),
        ):
            if hint in name:
                return label
        return "C built-ins"
    return next((label for hint, label in COMPONENTS if hint in filename), "other Python")


async def profile_load(stack: Stack, gateway: Gateway, clients: int, args: argparse.Namespace) -> int:
    """GetStockLevel, then CreateOrder, each for --seconds with the profiler on: the requests it saw.
    Each call has its own connections: uvicorn closes a connection idle for 5 s."""
    assert gateway.process is not None
    served = 0
    for rpc in (GET, CREATE):
        async with raw_http(stack, gateway.port, rpc, clients) as call:
            if rpc == GET:
                await drive(call, clients, args.warmup)
                os.kill(gateway.process.pid, signal.SIGUSR1)
            latencies, failures, first, _ = await drive(call, clients, args.seconds)
            served += len(latencies) + failures
            if failures:
                print(f"profiled {rpc}: {failures} failures, the first: {first}")
    os.kill(gateway.process.pid, signal.SIGUSR2)
    return served


def part_profile(stack: Stack, env: dict[str, str], home: Path, args: argparse.Namespace) -> None:
    clients = args.clients[0]
    out = home / "gateway.prof"
    profiled = Gateway("uvicorn", home, env, profile_to=out).start()
    try:
        served = asyncio.run(profile_load(stack, profiled, clients, args))
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # written whole
    finally:
        profiled.stop()
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    per_component: dict[str, float] = {}
    for key, (_, _, own, _, _) in stats.items():
        per_component[component(key)] = per_component.get(component(key), 0.0) + own
    total = sum(per_component.values())
    print(
        f"\nprofile: the gateway (uvicorn) under cProfile, CPU time of its main thread, {served} requests "
        f"(GetStockLevel, then CreateOrder, {args.seconds:g} s each, {clients} clients): "
        f"{1e6 * total / served:.0f} µs a request under the profiler, which inflates Python code against C"
    )
    print("own time by component")
    for name, own in sorted(per_component.items(), key=lambda item: -item[1])[:12]:
        print(f"  {name:<44} {1e6 * own / served:7.0f} µs {100 * own / total:5.1f} %")
    print("cumulative time of steps of a request")
    for suffix, name, label in COSTS:
        found = [v for k, v in stats.items() if k[0].endswith(suffix) and k[2] == name]
        if found:
            spent = sum(v[3] for v in found)
            print(f"  {label:<60} {1e6 * spent / served:7.0f} µs {100 * spent / total:5.1f} %")
    print("top functions by own time")
    for (filename, lineno, name), (_, _, own, _, _) in sorted(stats.items(), key=lambda item: -item[1][2])[
        :12
    ]:
        where = filename.split("site-packages/")[-1].replace(str(harness.ROOT) + "/", "")
        print(f"  {1e6 * own / served:7.1f} µs  {where}:{lineno} {name}"[:150])
