"""The demo's flows of goods: purchase orders driven to their planned states,
direct receipts, a transfer, counts and adjustments (sales: tools.demo_sales).

A flow is found again by a marker of its own (a note prefix, a movement
reference, an external order id), and each planned document is moved
forward only from the state it is found in: a rerun after an interruption
finishes what was started, and a rerun after success finds everything in
its final state and does nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from tools.demo_run import DemoError, Run
from tools.demo_story import (
    ADJUSTMENTS,
    COUNTS,
    PURCHASES,
    RECEIPTS,
    TRANSFER,
    Lines,
    MovementPlan,
    PurchasePlan,
)
from tools.rest import JSON

# Who moves a purchase order on: the buyer sends it, the clerk at the dock
# receives it, and cancelling a sent order or closing one takes a manager.
PURCHASE_ROLES = {
    "submit": "ROLE_BUYER",
    "receive": "ROLE_CLERK",
    "cancel": "ROLE_MANAGER",
    "close": "ROLE_MANAGER",
}


def lines_json(lines: Lines, field: str = "quantity") -> list[JSON]:
    """Planned (sku, quantity) pairs as the JSON lines of a request."""
    return [{"sku": sku, field: str(quantity)} for sku, quantity in lines]


async def purchases(run: Run) -> str:
    """Purchase orders, found again by the marker their note starts with, each
    moved on from its state towards the plan's (submit, receive, cancel, close)."""
    found = await run.api.list_all("list purchase orders", "/v1/purchaseOrders", "purchaseOrders")
    by_marker = {str(o.get("note", "")).split("]", 1)[0] + "]": o for o in found}
    created = 0
    steps = 0
    states: Counter[str] = Counter()
    # One at a time, so order numbers follow the plan.
    for plan in PURCHASES:
        order = by_marker.get(plan.marker)
        if order is None:
            body = {
                "supplier": run.suppliers[plan.supplier],
                "warehouse": run.warehouses[plan.warehouse],
                "lines": lines_json(plan.lines, "quantityOrdered"),
                "note": f"{plan.marker} {plan.note}",
            }
            key = run.key("purchase-order", plan.key)
            step = f"create purchase order {plan.key}"
            reply = await run.one("ROLE_BUYER").post(step, "/v1/purchaseOrders", body, key=key)
            order = reply["purchaseOrder"]
            created += 1
        order, taken = await _advance_purchase(run, plan, order)
        steps += taken
        states[str(order["state"]).removeprefix("PURCHASE_ORDER_STATE_").lower()] += 1
    await _wait_booked(run)
    summary = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(states.items()))
    return f"{created} created, {steps} transitions and receipts ({summary})"


async def _advance_purchase(run: Run, plan: PurchasePlan, order: JSON) -> tuple[JSON, int]:
    name = str(order["name"])
    taken = 0

    def state() -> str:
        return str(order["state"]).removeprefix("PURCHASE_ORDER_STATE_")

    async def act(verb: str, body: JSON, *key: object) -> JSON:
        nonlocal taken
        taken += 1
        step = f"{verb} purchase order {plan.key}"
        api = run.one(PURCHASE_ROLES[verb])
        reply = await api.post(
            step, f"/v1/{name}:{verb}", body, key=run.key("purchase-order", plan.key, *key)
        )
        return dict(reply["purchaseOrder"])

    if state() == "DRAFT" and plan.target != "DRAFT":
        order = await act("submit", {}, "submit")
    if state() == "SUBMITTED" and plan.target == "CANCELLED":
        order = await act("cancel", {"reason": plan.end_reason}, "cancel")
    if state() in ("SUBMITTED", "PARTIALLY_RECEIVED"):
        deliveries = plan.deliveries or ((plan.lines,) if plan.target == "RECEIVED" else ())
        receipts = await run.api.list_all(f"list receipts of {plan.key}", f"/v1/{name}/receipts", "receipts")
        for number in range(len(receipts), len(deliveries)):
            body = {"lines": lines_json(deliveries[number]), "deliveryNote": f"LS-{plan.key}-{number + 1}"}
            order = await act("receive", body, "receipt", number)
    if state() == "PARTIALLY_RECEIVED" and plan.target == "CLOSED":
        order = await act("close", {"reason": plan.end_reason}, "close")
    return order, taken


async def _wait_booked(run: Run, timeout: float = 30.0) -> None:
    """Receipts are booked in svc_stock right away unless it was slow; the
    flows after this one need the stock, so wait for any still pending."""
    deadline = time.monotonic() + timeout
    query = [("state", "RECEIPT_STATE_PENDING")]
    while await run.api.list_all("list pending receipts", "/v1/purchaseOrders/-/receipts", "receipts", query):
        if time.monotonic() > deadline:
            raise DemoError(f"receipts were still not booked in svc_stock after {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def _recorded(run: Run, reference: str) -> bool:
    """Whether the ledger holds a movement with this reference (ours alone use it)."""
    query = [("reference", reference), ("pageSize", "1")]
    page = await run.api.get(f"look for movements of {reference}", "/v1/movements", query)
    return bool(page.get("movements"))


async def movements(run: Run) -> str:
    """Direct receipts, a transfer, cycle counts and adjustments, each found
    again by its reference."""
    plans: list[tuple[str, MovementPlan]] = [
        *(("receipt", p) for p in RECEIPTS),
        ("transfer", TRANSFER),
        *(("count", p) for p in COUNTS),
        *(("adjustment", p) for p in ADJUSTMENTS),
    ]
    done: Counter[str] = Counter()
    for kind, plan in plans:
        if await _recorded(run, plan.reference):
            continue
        warehouse = run.warehouses[plan.warehouse]
        verb, body = await _movement(run, kind, plan, warehouse)
        api = run.one("ROLE_MANAGER" if kind == "adjustment" else "ROLE_CLERK")
        step, path = f"{kind} {plan.reference}", f"/v1/{warehouse}/stockLevels:{verb}"
        await api.post(
            step, path, body | {"reference": plan.reference}, key=run.key("movement", plan.reference)
        )
        done[kind] += 1
    made = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in done.items()) or "nothing"
    return f"{made} booked, {len(plans) - done.total()} already booked"


async def _movement(run: Run, kind: str, plan: MovementPlan, warehouse: str) -> tuple[str, JSON]:
    """The StockService method (the verb after the colon) and body of one planned movement."""
    if kind == "receipt":
        return "receive", {"lines": lines_json(plan.lines), "note": plan.note}
    if kind == "transfer":
        destination = run.warehouses[plan.destination]
        return "transfer", {
            "destinationWarehouse": destination,
            "lines": lines_json(plan.lines),
            "note": plan.note,
        }
    if kind == "count":
        return "recordCycleCount", {"lines": await _counted(run, warehouse, plan), "note": plan.note}
    lines = [
        {"sku": sku, "quantityDelta": str(delta), "reason": reason, "note": note}
        for (sku, delta), (reason, note) in zip(plan.lines, plan.reasons, strict=True)
    ]
    return "adjust", {"lines": lines}


async def _counted(run: Run, warehouse: str, plan: MovementPlan) -> list[JSON]:
    # The plan says what difference the count finds, so the counted figure
    # is read off the level as it stands when the count is first recorded.
    query = [("skus", sku) for sku, _ in plan.lines]
    levels = await run.api.list_all(
        f"read levels for {plan.reference}", f"/v1/{warehouse}/stockLevels", "stockLevels", query
    )
    on_hand = {str(x["sku"]): int(x.get("onHand", 0)) for x in levels}
    return [
        {"sku": sku, "countedQuantity": str(max(0, on_hand.get(sku, 0) + delta))} for sku, delta in plan.lines
    ]
