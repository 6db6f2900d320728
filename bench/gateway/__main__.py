"""`python -m bench.gateway`: the arguments, the stack started once, then each part in turn."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import bench.gateway
from bench.gateway.compare import part_one
from bench.gateway.fanout import fan_out, part_two
from bench.gateway.profiling import part_profile, serve_profiled
from bench.gateway.servers import part_three
from bench.gateway.stack import Gateway, Stack, gateway_env, services_on_postgres
from bench.stack import seed
from tests import harness


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=bench.gateway.__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured calls before each run")
    parser.add_argument("--clients", type=int, nargs="+", default=[16], help="concurrent clients (part 1)")
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument(
        "--no-httpx", dest="httpx", action="store_false", help="leave out the httpx client's run"
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="SSE subscribers (part 2)")
    parser.add_argument("--changes", type=int, default=5, help="receipts sent to the subscribers")
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between receipts")
    parser.add_argument("--delivery-timeout", type=float, default=15.0)
    parser.add_argument(
        "--idle-seconds", type=float, default=20.0, help="idle interval with the streams open (half without)"
    )
    parser.add_argument("--skip-fanout", action="store_true", help="leave out part 2")
    parser.add_argument("--compare-servers", action="store_true", help="part 3: uvicorn against granian")
    parser.add_argument("--server-rounds", type=int, default=2, choices=(1, 2))
    parser.add_argument("--profile", action="store_true", help="cProfile the gateway under load")
    parser.add_argument("--serve-profiled", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if args.serve_profiled:
        sys.exit(serve_profiled(args.serve_profiled))
    harness.require_postgres()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        tls_dir = harness.issue_certificates(home / "tls")
        with services_on_postgres(home, tls_dir) as (services, databases):
            env = gateway_env(home, tls_dir, {name: s.address for name, s in services.items()})
            gateway = Gateway("uvicorn", home, env).start()
            try:
                token, warehouse, skus = seed(
                    services["user"], services["catalog"], services["stock"], args.skus
                )
                stack = Stack(services, databases, token, warehouse, skus)
                print(
                    f"gateway benchmark: {os.cpu_count()} cores shared by this client, the gateway, "
                    "svc_user, svc_catalog, svc_stock, svc_order and PostgreSQL; "
                    f"load average before: {os.getloadavg()[0]:.1f}"
                )
                part_one(stack, gateway, args)
                if not args.skip_fanout:
                    part_two(asyncio.run(fan_out(stack, gateway, args)), args)
                if args.compare_servers:
                    part_three(stack, gateway, env, home, args)
                if args.profile:
                    part_profile(stack, env, home, args)
            finally:
                gateway.stop()


if __name__ == "__main__":
    main()
