"""`stockmesh demo`: realistic demo data, loaded through the public REST API.

A tenant and its first admin are the one thing no API creates, so they come
from `stockmesh create-admin` (run as a subprocess: it needs the same
STOCKMESH_HOME as the running services). Everything else goes through the
gateway, done by the demo users whose job it is: users for every role,
warehouses, about 200 variants, suppliers and their items, purchase orders
in every state, receipts, a transfer, counts, adjustments, sales and
returns, and reorder policies that leave some levels low.

Running it again adds nothing; tools.demo_phases, tools.demo_flows and
tools.demo_sales say how each phase recognises its own earlier work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from tools import demo_flows, demo_phases, demo_sales
from tools.demo_plan import ADMIN, TENANT_DISPLAY_NAME, USERS
from tools.demo_run import DemoError, Run, log_in
from tools.rest import Api, ApiError, Unreachable

DEFAULT_URL = "http://127.0.0.1:8080"
Phase = Callable[[Run], Awaitable[str]]


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `stockmesh demo` (found through the `stockmesh.commands` entry points)."""
    p = sub.add_parser(
        "demo",
        help="load demo data through the REST API (running it again adds nothing)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument(
        "--base-url",
        type=_url,
        default=os.environ.get("STOCKMESH_GATEWAY_URL", DEFAULT_URL),
        help=f"the gateway (default: $STOCKMESH_GATEWAY_URL or {DEFAULT_URL})",
    )
    p.add_argument("--tenant", default="demo", type=_slug, help="tenant slug to load into (default: demo)")
    p.set_defaults(handler=run)


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{value!r}: an http:// or https:// URL, e.g. {DEFAULT_URL}")
    return value


def _slug(value: str) -> str:
    # The rule svc_user applies; checked here so a typo is a usage error, not
    # a refusal halfway through.
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?", value):
        raise argparse.ArgumentTypeError(
            f"{value!r}: 1-40 lowercase letters, digits or hyphens, not starting or ending with a hyphen"
        )
    return value


def run(args: argparse.Namespace) -> int:
    """The `demo` command: 0 when every phase succeeded, 1 otherwise."""
    # One log line per HTTP request would drown the progress lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return asyncio.run(_load(str(args.base_url), str(args.tenant)))
    except ApiError as exc:
        body = json.dumps(exc.body, indent=2, ensure_ascii=False) if isinstance(exc.body, dict) else exc.body
        _fail(f"failed at step '{exc.step}': HTTP {exc.status}\n{body}")
    except Unreachable as exc:
        _fail(
            f"failed at step '{exc.step}': no answer from {exc.url} ({type(exc.cause).__name__}). "
            "Is `make up` (or `stockmesh up`) running?"
        )
    except DemoError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; run it again to finish (nothing is done twice)")
        return 130
    return 1


def _fail(message: str) -> None:
    print(f"\nstockmesh demo: {message}", file=sys.stderr, flush=True)


PHASES: tuple[tuple[str, Phase], ...] = (
    ("users", demo_phases.users),
    ("warehouses", demo_phases.warehouses),
    ("catalogue", demo_phases.catalogue),
    ("suppliers", demo_phases.suppliers),
    ("purchase orders", demo_flows.purchases),
    ("stock movements", demo_flows.movements),
    ("sales", demo_sales.sales),
    ("reorder policies", demo_phases.policies),
)


async def _load(base_url: str, tenant: str) -> int:
    started = time.monotonic()
    api = Api(base_url, user_agent="stockmesh-demo")
    demo = Run(api, tenant)
    print(f"stockmesh demo: tenant '{tenant}' through {api.base_url}", flush=True)
    try:
        phases: list[tuple[str, Phase]] = [("tenant", _tenant), *PHASES, ("low stock", _low_stock)]
        for number, (label, phase) in enumerate(phases, start=1):
            print(f"  [{number:>2}/{len(phases)}] {label:<17}", end=" ", flush=True)
            begun = time.monotonic()
            outcome = await phase(demo)
            print(f"{outcome} ({time.monotonic() - begun:.1f} s)", flush=True)
    finally:
        await api.close()
    _summary(api.base_url, tenant, time.monotonic() - started, api.requests)
    return 0


async def _tenant(demo: Run) -> str:
    email = ADMIN.email(demo.tenant)
    try:
        await log_in(demo.api, demo.tenant, ADMIN)
        return f"exists; logged in as {email}"
    except ApiError as exc:
        if exc.status not in (400, 401):
            raise
    outcome = await asyncio.to_thread(_create_admin, demo.tenant, email, ADMIN.password)
    try:
        await log_in(demo.api, demo.tenant, ADMIN)
    except ApiError as exc:
        if exc.status != 401:
            raise
        home = os.environ.get("STOCKMESH_HOME", ".stockmesh")
        where = await asyncio.to_thread(os.path.abspath, home)
        raise DemoError(
            f"{email} cannot log in to tenant '{demo.tenant}' with the demo password ({outcome}). "
            f"If the tenant was made by hand, use another --tenant; otherwise check that the gateway's "
            f"services use this STOCKMESH_HOME ({where})."
        ) from None
    return f"{outcome}; logged in as {email}"


def _create_admin(tenant: str, email: str, password: str) -> str:
    command = [sys.executable, "-m", "kit.cli", "create-admin", "--tenant", tenant]
    command += ["--tenant-name", TENANT_DISPLAY_NAME, "--email", email, "--password-stdin"]
    try:
        done = subprocess.run(
            command, check=False, input=password + "\n", capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DemoError(f"`stockmesh create-admin` could not run: {exc}") from None
    if done.returncode == 0:
        return f"created tenant '{tenant}' with admin {email}"
    if "already exists" in done.stderr:
        return f"tenant '{tenant}' already exists"
    said = done.stderr.strip() or done.stdout.strip()
    raise DemoError(f"`stockmesh create-admin` failed (exit {done.returncode}): {said}")


async def _low_stock(demo: Run) -> str:
    low = await demo.api.list_all(
        "list low stock", "/v1/warehouses/-/stockLevels:listLowStock", "stockLevels"
    )
    reply = await demo.api.get(
        "propose replenishment", "/v1/replenishment:propose", [("warehouse", demo.warehouses["dc"])]
    )
    statuses = Counter(
        str(p.get("status", "")).removeprefix("PROPOSAL_STATUS_").lower() for p in reply.get("proposals", [])
    )
    proposed = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(statuses.items()))
    return (
        f"{len(low)} levels at or below their reorder point; central warehouse: {proposed or 'no proposals'}"
    )


def _summary(base_url: str, tenant: str, seconds: float, requests: int) -> None:
    admin = ADMIN.email(tenant)
    width = max(len(u.email(tenant)) for u in USERS)
    print(f"\nDone in {seconds:.1f} s ({requests} requests).\n")
    print(f"  REST API   {base_url}/v1")
    print(f"  API docs   {base_url}/docs")
    print(f"  console    {base_url}/console  (any user below)")
    print(f"  tenant     {tenant} ({TENANT_DISPLAY_NAME})\n")
    print(f"  {'role':<8} {'email':<{width}}  password")
    for user in USERS:
        role = user.role.removeprefix("ROLE_").lower()
        print(f"  {role:<8} {user.email(tenant):<{width}}  {user.password}")
    login = json.dumps({"tenant": tenant, "email": admin, "password": ADMIN.password})
    print("\nTry it:")
    print(f"  TOKEN=$(curl -s {base_url}/v1/auth:login -H 'Content-Type: application/json' \\")
    print(f"    -d '{login}' \\")
    print('    | python3 -c \'import json, sys; print(json.load(sys.stdin)["tokens"]["accessToken"])\')')
    print(f'  curl -s -H "Authorization: Bearer $TOKEN" {base_url}/v1/warehouses/-/stockLevels:listLowStock')
