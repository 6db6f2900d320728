"""What the drill checks on the restored system, through the REST API: which
acknowledged requests the backups lost, that retrying them (same request id)
applies each exactly once, that no level drifted from its ledger, and that
every drill order's reservation is in the state its order says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tools.dr.load import Journal, Request

# The reservation state each order status implies (svc_order's contract).
RESERVATION_OF = {
    "ORDER_STATUS_RESERVED": {"RESERVATION_STATE_ACTIVE"},
    "ORDER_STATUS_SHIPPED": {"RESERVATION_STATE_COMMITTED"},
    "ORDER_STATUS_CANCELLED": {"RESERVATION_STATE_RELEASED"},
    "ORDER_STATUS_EXPIRED": {"RESERVATION_STATE_EXPIRED", "RESERVATION_STATE_RELEASED"},
}


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    levels_checked: int = 0
    orders_checked: int = 0

    def fail(self, message: str) -> None:
        self.problems.append(message)


async def get(client: httpx.AsyncClient, path: str, **query: Any) -> dict[str, Any]:
    reply = await client.get(path, params=query)
    reply.raise_for_status()
    found: dict[str, Any] = reply.json()
    return found


async def copies(client: httpx.AsyncClient, request: Request) -> int:
    """How many times the restored system holds the effect of `request`."""
    if request.kind == "order":
        return len((await get(client, "/v1/orders", customer=f"dr-{request.request_id}"))["orders"])
    if request.kind == "receive":
        movements = await get(client, "/v1/movements", reference=f"dr-{request.request_id}")
        return len(movements["movements"])
    order = await client.get(request.path.rsplit(":", 1)[0])
    if order.status_code == 404:
        return 0  # the order itself was lost
    wanted = "ORDER_STATUS_SHIPPED" if request.kind == "ship" else "ORDER_STATUS_CANCELLED"
    return int(order.json()["order"]["status"] == wanted)


async def lost(client: httpx.AsyncClient, journal: Journal) -> list[Request]:
    """Acknowledged requests whose effect the restored system does not hold."""
    return [r for r in journal.acked() if await copies(client, r) == 0]


async def exactly_once(client: httpx.AsyncClient, journal: Journal, findings: Findings) -> None:
    for request in journal.acked():
        found = await copies(client, request)
        if found != 1:
            findings.fail(f"{request.kind} {request.request_id}: {found} copies after the retries, not 1")


async def no_drift(client: httpx.AsyncClient, findings: Findings) -> None:
    for warehouse in (await get(client, "/v1/warehouses"))["warehouses"]:
        report = await get(client, f"/v1/{warehouse['name']}/stockLevels:reconcile")
        findings.levels_checked += int(report.get("checkedLevelCount", 0))
        for drift in report.get("drifts", []):
            findings.fail(f"reconcile {warehouse['code']}: {drift}")


async def orders_match_reservations(client: httpx.AsyncClient, journal: Journal, findings: Findings) -> None:
    for request in journal.acked("order"):
        orders = (await get(client, "/v1/orders", customer=f"dr-{request.request_id}"))["orders"]
        for order in orders:
            findings.orders_checked += 1
            if not order.get("reservation"):
                findings.fail(f"{order['number']}: {order['status']} with no reservation")
                continue
            reservation = (await get(client, f"/v1/{order['reservation']}"))["reservation"]
            expected = RESERVATION_OF.get(order["status"])
            if expected is not None and reservation["state"] not in expected:
                state = reservation["state"]
                findings.fail(f"{order['number']} is {order['status']} but {order['reservation']} is {state}")
