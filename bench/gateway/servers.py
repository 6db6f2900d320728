"""Part three: GetStockLevel through the gateway served by uvicorn and by
granian, and `app()`, the factory granian starts the gateway from."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path

from starlette.applications import Starlette

from bench.gateway.clients import GET, Run, measure, raw_http
from bench.gateway.stack import Gateway, Stack
from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit import logs, metrics, tracing


def app() -> Starlette:
    """The gateway as `python -m gateway` builds it, for an ASGI server that
    starts it from a factory: `granian --interface asgi --factory bench.gateway.servers:app`."""
    settings = GatewaySettings.from_env()
    logs.configure("gateway", settings.log_level, settings.log_format)
    tracing.configure_for("gateway", settings.traces_file, settings.otlp_endpoint)
    if settings.metrics_listen:
        metrics.serve(settings.metrics_listen)
    return create_app(settings)


def part_three(
    stack: Stack, gateway: Gateway, env: dict[str, str], home: Path, args: argparse.Namespace
) -> None:
    clients = args.clients[0]
    print(
        f"\n3. ASGI server: GetStockLevel through the gateway on each server, {clients} clients, "
        f"raw HTTP/1.1, {args.seconds:.0f} s a run, in the order A B B A; base: uvicorn's first run"
    )
    if importlib.util.find_spec("granian") is None:
        print("granian is not installed: .venv/bin/pip install granian==2.8.7")
        return
    granian = Gateway("granian", home, env).start()
    try:
        servers = {"uvicorn": gateway, "granian": granian}
        runs: dict[str, list[Run]] = {"uvicorn": [], "granian": []}
        for name in ("uvicorn", "granian", "granian", "uvicorn")[: 2 * args.server_rounds]:
            server = servers[name]
            run = asyncio.run(
                measure(
                    raw_http(stack, server.port, GET, clients),
                    stack.meter(server),
                    rpc=GET,
                    path=name,
                    clients=clients,
                    seconds=args.seconds,
                    warmup=args.warmup,
                )
            )
            runs[name].append(run)
    finally:
        granian.stop()
    # others: CPU seconds the machine spent on processes not part of this benchmark
    line = "{:<8} {:>5} {:>8} {:>7} {:>7} {:>5} {:>11} {:>10} {:>10} {:>8}"
    print(
        line.format(
            "server",
            "run",
            "calls/s",
            "p50 ms",
            "p99 ms",
            "fail",
            "gw CPU/call",
            "rate ×base",
            "p50 ×base",
            "others",
        )
    )
    base = runs["uvicorn"][0]
    for name, measured in runs.items():
        for k, run in enumerate(measured, 1):
            print(
                line.format(
                    name,
                    k,
                    f"{run.rate:.0f}",
                    f"{run.percentile(50):.1f}",
                    f"{run.percentile(99):.1f}",
                    run.failures,
                    f"{run.ms_per_call(run.cpu.groups['gateway']):.2f} ms",
                    f"{run.rate / base.rate:.2f}",
                    f"{run.percentile(50) / base.percentile(50):.2f}",
                    f"{run.cpu.others:.1f} s",
                )
            )
        if len(measured) > 1:
            calls = sum(r.calls for r in measured)
            rate = sum(len(r.latencies) for r in measured) / sum(r.seconds for r in measured)
            gw = sum(r.cpu.groups["gateway"] for r in measured)
            print(f"{name}: {rate:.0f} calls/s over its runs, gateway CPU {1000 * gw / calls:.2f} ms a call")
    # Both must do the same work per request, the JSON access-log line included.
    written = {
        name: server.log_path.read_text(errors="replace").count('"gateway.access"')
        for name, server in servers.items()
    }
    print(
        "access-log lines written (all requests so far): " + ", ".join(f"{n} {c}" for n, c in written.items())
    )
