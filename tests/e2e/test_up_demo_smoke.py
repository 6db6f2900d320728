"""`stockmesh up` as a user runs it (tests/e2e/system.py), `stockmesh demo`
twice against it, and `ci/smoke` against the result."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests import harness
from tests.e2e.system import (
    BASE_URL,
    GRPC_PORTS,
    ROOT,
    SERVICES,
    TENANT,
    System,
    demo,
    environment,
    processes,
    run,
    running,
)
from tools.demo_plan import ADMIN, USERS

ADMIN_EMAIL = ADMIN.email(TENANT)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running(tmp_path_factory.mktemp("stockmesh-home")) as started:
        yield started


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
    assert f"{BASE_URL}/console" in first_demo.stdout
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
