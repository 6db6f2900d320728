"""`stockmesh up` as a user runs it (five services and the gateway, on the
default ports, SQLite in a fresh STOCKMESH_HOME), `stockmesh demo` twice
against it, and `ci/smoke` against the result.

The system is started once for the module and stopped with SIGINT, as Ctrl-C
would; it must exit 0 and leave no process behind.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit import services
from tests import harness
from tools.demo_plan import ADMIN, USERS

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "http://127.0.0.1:8080"
SERVICES = services.available()
GRPC_PORTS = {name: services.ports(name)[0] for name in SERVICES}
PORTS = (8080, 9450, *(port for name in SERVICES for port in services.ports(name)))
TENANT = "demo"
ADMIN_EMAIL = ADMIN.email(TENANT)


@dataclass
class System:
    home: Path
    env: dict[str, str]
    log: Path
    children: list[int]


def environment(home: Path) -> dict[str, str]:
    """This environment without any stockmesh setting or shared server, so the
    run uses its own home, SQLite and no Redis, whatever the caller has set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STOCKMESH_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env["STOCKMESH_HOME"] = str(home)
    return env


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[1]), fields[0], command.strip())
    return found


def wait_up(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`stockmesh up` exited with {process.returncode}:\n{tail(log)}", pytrace=False)
        if "all up" in log.read_text(errors="replace"):
            return
        try:
            if httpx.get(f"{BASE_URL}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"`stockmesh up` was not up within {timeout:.0f} s:\n{tail(log)}", pytrace=False)


def children_of(pid: int) -> list[int]:
    return [child for child, (parent, _, _) in processes().items() if parent == pid]


def shut_down(process: subprocess.Popen[bytes], children: list[int]) -> tuple[int, list[int]]:
    """SIGINT, as Ctrl-C; returns the exit code and the children still alive
    afterwards, which are then killed so no test leaves processes behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    table = processes()
    left = [pid for pid in children if pid in table and table[pid][1] != "Z"]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return process.returncode, left


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    busy = [port for port in PORTS if listening(port)]
    if busy:
        pytest.fail(
            f"default port(s) {', '.join(map(str, busy))} already in use: this test runs the real "
            "`stockmesh up`, which listens on 50051-50055, 8080 and 9450-9455; stop whatever holds them",
            pytrace=False,
        )
    home = tmp_path_factory.mktemp("stockmesh-home")
    env = environment(home)
    log = home / "up.log"
    with log.open("wb") as out:
        # Its own session: only the SIGINT sent below reaches it, as Ctrl-C would.
        process = subprocess.Popen(
            [sys.executable, "-m", "kit.cli", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_up(process, log, timeout=120)
    except BaseException:
        shut_down(process, children_of(process.pid))
        raise
    children = children_of(process.pid)
    yield System(home, env, log, children)
    code, left = shut_down(process, children)
    assert code == 0, f"`stockmesh up` exited with {code} after SIGINT:\n{tail(log)}"
    assert not left, f"processes left behind after `stockmesh up` stopped: {left}"
    last = log.read_text().rstrip().splitlines()[-1]
    assert last == "stockmesh up: stopped: every process has exited.", tail(log)


def run(command: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Runs a command as a script would: no terminal, output captured."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def demo(system: System) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kit.cli", "demo", "--base-url", BASE_URL, "--tenant", TENANT]
    return run(command, system.env)


@pytest.fixture(scope="module")
def first_demo(system: System) -> subprocess.CompletedProcess[str]:
    done = demo(system)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def smoke(system: System, password: str) -> subprocess.CompletedProcess[str]:
    env = system.env | {"SMOKE_PASSWORD": password}
    command = [sys.executable, str(ROOT / "ci" / "smoke"), "--base-url", BASE_URL, "--tenant", TENANT]
    return run([*command, "--email", ADMIN_EMAIL, "--password-env", "SMOKE_PASSWORD"], env, timeout=120)


def test_create_admin_without_a_terminal_says_how_to_pass_the_password(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kit.cli", "create-admin"]
    for given in (["--tenant", "acme", "--email", "a@acme.test"], []):
        done = run([*command, *given], environment(tmp_path), timeout=60)
        assert done.returncode == 2, done.stderr
        assert "--password-stdin" in done.stderr
        assert "Traceback" not in done.stderr
    assert "--tenant" in done.stderr
    assert "--email" in done.stderr
    assert not (tmp_path / "data").exists()


def test_demo_without_a_gateway_says_so_without_a_traceback(tmp_path: Path) -> None:
    done = run(
        [sys.executable, "-m", "kit.cli", "demo", "--base-url", "http://127.0.0.1:9"], environment(tmp_path)
    )
    assert done.returncode == 1
    assert "make up" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_six_processes_are_up(system: System) -> None:
    commands = [processes().get(pid, (0, "", ""))[2] for pid in system.children]
    assert len(commands) == 6, commands
    assert sorted(c.split("serve ")[-1] for c in commands if "kit.cli serve" in c) == sorted(SERVICES)
    assert any(c.endswith("-m gateway") for c in commands), commands
    for name, port in GRPC_PORTS.items():
        with harness.channel(f"127.0.0.1:{port}", system.home / "tls", f"svc-{name}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, name
    health = httpx.get(f"{BASE_URL}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "SERVING"
    assert httpx.get(f"{BASE_URL}/docs", timeout=5).status_code == 200


class Reader:
    """Reads the tenant back through the REST API, as its admin."""

    def __init__(self) -> None:
        self.client = httpx.Client(base_url=BASE_URL, timeout=30)
        body = {"tenant": TENANT, "email": ADMIN_EMAIL, "password": ADMIN.password}
        reply = self.client.post(
            "/v1/auth:login", json=body, headers={"Idempotency-Key": os.urandom(8).hex()}
        )
        reply.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {reply.json()['tokens']['accessToken']}"

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def all(self, path: str, field: str, **query: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            page = self.client.get(path, params={**query, "pageSize": "1000", "pageToken": token})
            page.raise_for_status()
            items += page.json().get(field, [])
            token = page.json().get("nextPageToken", "")
            if not token:
                return items

    def counts(self) -> dict[str, Any]:
        products = self.all("/v1/products", "products")
        purchase_orders = self.all("/v1/purchaseOrders", "purchaseOrders")
        orders = self.all("/v1/orders", "orders")
        levels = self.all("/v1/warehouses/-/stockLevels", "stockLevels")
        return {
            "users": len(self.all("/v1/users", "users")),
            "products": len(products),
            "variants": sum(len(p["variants"]) for p in products),
            "warehouses": len(self.all("/v1/warehouses", "warehouses")),
            "suppliers": len(self.all("/v1/suppliers", "suppliers")),
            "supplier items": len(self.all("/v1/suppliers/-/items", "supplierItems")),
            "purchase orders": Counter(o["state"] for o in purchase_orders),
            "receipts": len(self.all("/v1/purchaseOrders/-/receipts", "receipts")),
            "orders": Counter(o["status"] for o in orders),
            "reservations": len(self.all("/v1/reservations", "reservations")),
            "movements": len(self.all("/v1/movements", "movements")),
            "levels": sorted((x["name"], x["onHand"], x["reserved"], x["reorderPoint"]) for x in levels),
        }


def test_demo_loads_and_a_second_run_adds_nothing(
    system: System, first_demo: subprocess.CompletedProcess[str]
) -> None:
    with Reader() as reader:
        before = reader.counts()
        low = reader.all("/v1/warehouses/-/stockLevels:listLowStock", "stockLevels")
        again = demo(system)
        after = reader.counts()
    assert before["products"] >= 60
    assert before["variants"] >= 190
    assert before["warehouses"] == 3
    assert before["users"] == 5
    assert set(before["purchase orders"]) == {
        f"PURCHASE_ORDER_STATE_{s}"
        for s in ("DRAFT", "SUBMITTED", "PARTIALLY_RECEIVED", "RECEIVED", "CANCELLED", "CLOSED")
    }
    assert {"ORDER_STATUS_SHIPPED", "ORDER_STATUS_CANCELLED", "ORDER_STATUS_RETURNED"} <= set(
        before["orders"]
    )
    assert low, "no level below its reorder point"
    assert again.returncode == 0, f"stdout:\n{again.stdout}\nstderr:\n{again.stderr}"
    assert " 0 products and 0 variants created" in again.stdout
    assert after == before
    for user in USERS:
        assert re.search(rf"{re.escape(user.email(TENANT))} +{re.escape(user.password)}", first_demo.stdout)
    assert f"{BASE_URL}/docs" in first_demo.stdout
    assert "curl" in first_demo.stdout


def test_smoke_passes_with_the_demo_admin(
    system: System, first_demo: subprocess.CompletedProcess[str]
) -> None:
    script = ROOT / "ci" / "smoke"
    assert os.access(script, os.X_OK)
    imported = {
        str(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(ast.parse(script.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) <= {"httpx", "__future__"}
    done = smoke(system, ADMIN.password)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert len(steps) >= 15, done.stdout
    assert "passed" in done.stdout.splitlines()[-1]


def test_smoke_with_a_bad_password_fails_at_login(
    system: System, first_demo: subprocess.CompletedProcess[str]
) -> None:
    done = smoke(system, "Not-The-Password-0")
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1].startswith("FAILED login: 401 "), done.stdout
