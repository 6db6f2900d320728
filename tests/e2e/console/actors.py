"""The other side of the console's browser tests: a REST client standing for
the other users of the same API, and the demo data each test starts from."""

from __future__ import annotations

import os
from typing import Any

import httpx
from playwright.sync_api import Browser

from tests.e2e.browser import DESK, Console, password
from tests.e2e.system import BASE_URL, TENANT


class Rest:
    """Another client of the same REST API, signed in as one demo user."""

    def __init__(self, role: str) -> None:
        email, secret = password(role)
        self.client = httpx.Client(base_url=BASE_URL, timeout=30)
        reply = self.client.post(
            "/v1/auth:login", json={"tenant": TENANT, "email": email, "password": secret}
        )
        reply.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {reply.json()['tokens']['accessToken']}"

    def get(self, path: str, **query: Any) -> Any:
        reply = self.client.get(path, params=query)
        reply.raise_for_status()
        return reply.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        reply = self.client.post(path, json=body, headers={"Idempotency-Key": os.urandom(8).hex()})
        reply.raise_for_status()
        return reply.json()


def console(browser: Browser, role: str, viewport: dict[str, int] = DESK) -> Console:
    page = Console.open(browser, role, viewport)
    page.sign_in()
    return page


def central(rest: Rest) -> dict[str, Any]:
    return next(w for w in rest.get("/v1/warehouses")["warehouses"] if w["code"] == "DC-BER")


def stocked(rest: Rest, warehouse: dict[str, Any]) -> dict[str, Any]:
    """A level with a few units available, to take some away."""
    levels = rest.get(f"/v1/{warehouse['name']}/stockLevels", pageSize=100)["stockLevels"]
    return next(x for x in levels if int(x["available"]) >= 5)


def open_order_with_barcodes(admin: Rest) -> tuple[dict[str, Any], dict[str, Any], str]:
    """An open purchase order, one of its lines with room left, and that SKU's barcode."""
    states = ["PURCHASE_ORDER_STATE_SUBMITTED", "PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED"]
    orders = admin.get("/v1/purchaseOrders", states=states, pageSize=100)
    for po in orders["purchaseOrders"]:
        for line in po["lines"]:
            if int(line["quantityOrdered"]) - int(line.get("quantityReceived", "0")) >= 3:
                variant = admin.get("/v1/products/-/variants:lookupSku", sku=line["sku"])["variant"]
                if variant.get("barcode"):
                    return po, line, variant["barcode"]
    raise AssertionError("the demo data has no submitted purchase order with a barcoded line")


def new_order(rest: Rest, warehouse: dict[str, Any], quantity: int) -> dict[str, Any]:
    level = stocked(rest, warehouse)
    body = {
        "channel": "SALES_CHANNEL_PHONE",
        "warehouse": warehouse["name"],
        "customer": "console-test",
        "lines": [{"sku": level["sku"], "quantity": str(quantity)}],
    }
    order: dict[str, Any] = rest.post("/v1/orders", body)["order"]
    return order
