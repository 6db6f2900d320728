"""The drill's traffic: clerks creating, shipping and cancelling orders and
receiving stock over REST, each request journaled with its request id, its
body and when it was acknowledged, so it can be checked and retried later."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tools.demo_plan import USERS
from tools.dr.system import BASE_URL, TENANT, DrillError

JSON = dict[str, Any]


@dataclass
class Request:
    kind: str  # order, ship, cancel, receive
    request_id: str
    path: str
    body: JSON
    acked: float = 0.0  # wall clock of a 2xx answer; 0 when refused or lost
    answer: JSON = field(default_factory=dict)


@dataclass
class Journal:
    requests: list[Request] = field(default_factory=list)

    def acked(self, kind: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.acked and (kind is None or r.kind == kind)]


async def session(role: str) -> httpx.AsyncClient:
    """A client signed in as the demo user of `role`."""
    user = next(u for u in USERS if u.role == f"ROLE_{role.upper()}")
    client = httpx.AsyncClient(base_url=BASE_URL, timeout=30)
    body = {"tenant": TENANT, "email": user.email(TENANT), "password": user.password}
    reply = await client.post("/v1/auth:login", json=body)
    if reply.status_code != 200:
        raise DrillError(f"login as {role} failed: {reply.status_code} {reply.text}")
    client.headers["Authorization"] = f"Bearer {reply.json()['tokens']['accessToken']}"
    return client


async def send(client: httpx.AsyncClient, request: Request) -> str:
    """Sends (or re-sends) a journaled request with its own Idempotency-Key; answers "" when
    it was acknowledged, else why not."""
    try:
        reply = await client.post(
            request.path, json=request.body, headers={"Idempotency-Key": request.request_id}
        )
    except httpx.HTTPError as exc:
        return f"no answer ({exc.__class__.__name__})"  # the system went away with it in flight
    if 200 <= reply.status_code < 300:
        request.acked = request.acked or time.time()
        request.answer = reply.json()
        return ""
    return f"{reply.status_code} {reply.text[:300]}"


async def central(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """The central warehouse and the SKUs with stock to sell in it."""
    warehouses = (await client.get("/v1/warehouses")).json()["warehouses"]
    warehouse = next(w["name"] for w in warehouses if w["code"] == "DC-BER")
    levels = (await client.get(f"/v1/{warehouse}/stockLevels", params={"pageSize": 200})).json()[
        "stockLevels"
    ]
    skus = [x["sku"] for x in levels if int(x["available"]) >= 20]
    if len(skus) < 5:
        raise DrillError(f"the demo left too few SKUs with stock in {warehouse}")
    return warehouse, skus


async def run(client: httpx.AsyncClient, journal: Journal, stop: asyncio.Event, workers: int = 4) -> None:
    """Traffic until `stop` is set."""
    warehouse, skus = await central(client)
    reserved: list[str] = []

    async def worker(seed: int) -> None:
        chance = random.Random(seed)  # noqa: S311 - traffic shape, not secrets
        while not stop.is_set():
            rid = uuid.uuid4().hex
            roll = chance.random()
            if roll < 0.15 and reserved:
                order = reserved.pop(chance.randrange(len(reserved)))
                request = Request("ship", rid, f"/v1/{order}:ship", {"carrier": "DR"})
            elif roll < 0.2 and reserved:
                order = reserved.pop(chance.randrange(len(reserved)))
                request = Request("cancel", rid, f"/v1/{order}:cancel", {"reason": "drill"})
            elif roll < 0.6:
                line = {"sku": chance.choice(skus), "quantity": "1"}
                order_body: JSON = {
                    "channel": "SALES_CHANNEL_PHONE",
                    "warehouse": warehouse,
                    "customer": f"dr-{rid}",
                }
                request = Request("order", rid, "/v1/orders", {**order_body, "lines": [line]})
            else:
                receipt: JSON = {
                    "lines": [{"sku": chance.choice(skus), "quantity": "2"}],
                    "reference": f"dr-{rid}",
                }
                request = Request("receive", rid, f"/v1/{warehouse}/stockLevels:receive", receipt)
            journal.requests.append(request)
            if not await send(client, request) and request.kind == "order":
                reserved.append(request.answer["order"]["name"])

    await asyncio.gather(*(worker(n) for n in range(workers)))
