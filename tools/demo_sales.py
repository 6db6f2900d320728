"""The demo's sales: orders from the web shop, a wholesale customer and the
phone, moved on to their planned status, and a fortnight of till receipts
from each store.

An order is found again by its channel and external id, which the order
service keeps unique; a store's till receipts by the first receipt's id.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tools.demo_flows import lines_json
from tools.demo_run import Run, created_summary
from tools.demo_story import ORDERS, POS_SALES, PosSale, SalePlan
from tools.rest import JSON, ApiError

HOLD = f"{14 * 86400}s"  # open web orders stay reserved for a fortnight


async def sales(run: Run) -> str:
    """Sales orders, found again by channel and external id, moved on towards the
    planned status (ship, cancel, return); then a fortnight of till receipts per store."""
    found = await run.api.list_all("list orders", "/v1/orders", "orders")
    by_id = {(str(o.get("channel")), str(o.get("externalId"))): o for o in found}
    made = []
    statuses: Counter[str] = Counter()
    for plan in ORDERS:
        order = by_id.get((plan.channel, plan.external_id))
        made.append(order is None)
        if order is None:
            order = await _create_order(run, plan)
        order = await _advance_order(run, plan, order)
        statuses[str(order["status"]).removeprefix("ORDER_STATUS_").lower().replace("_", " ")] += 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    till = [await _import_till(run, store, sales) for store, sales in POS_SALES.items()]
    return f"{created_summary(made, 'orders')} ({summary}); till receipts: {', '.join(till)}"


async def _create_order(run: Run, plan: SalePlan) -> JSON:
    body = {
        "channel": plan.channel,
        "externalId": plan.external_id,
        "customer": plan.customer,
        "warehouse": run.warehouses["dc"],
        "lines": lines_json(plan.lines),
        "holdDuration": HOLD,
        "note": plan.note,
    }
    step = f"create order {plan.external_id}"
    try:
        key = run.key("order", plan.channel, plan.external_id)
        reply = await run.one("ROLE_CLERK").post(step, "/v1/orders", body, key=key)
    except ApiError as exc:
        existing = exc.metadata.get("order") if exc.already_exists else None
        if not existing:
            raise
        reply = await run.api.get(f"read order {plan.external_id}", f"/v1/{existing}")
    return dict(reply["order"])


async def _advance_order(run: Run, plan: SalePlan, order: JSON) -> JSON:
    name = str(order["name"])

    async def act(verb: str, body: JSON, *key: object) -> JSON:
        step = f"{verb} order {plan.external_id}"
        api = run.one("ROLE_MANAGER" if verb == "cancel" else "ROLE_CLERK")
        reply = await api.post(step, f"/v1/{name}:{verb}", body, key=run.key("order", plan.external_id, *key))
        return dict(reply["order"])

    status = str(order["status"]).removeprefix("ORDER_STATUS_")
    if status == "RESERVED" and plan.target == "CANCELLED":
        return await act("cancel", {"reason": plan.note}, "cancel")
    if status == "RESERVED" and plan.target != "RESERVED":
        tracking = f"{plan.carrier[:3].upper()}{run.key('tracking', plan.external_id)[:8].upper()}"
        order = await act("ship", {"carrier": plan.carrier, "trackingNumber": tracking}, "ship")
    if str(order["status"]).removeprefix("ORDER_STATUS_") in ("SHIPPED", "PARTIALLY_RETURNED"):
        for number in range(len(order.get("returns", [])), len(plan.returns)):
            reason, lines = plan.returns[number]
            order = await act("return", {"lines": lines_json(lines), "reason": reason}, "return", number)
    return order


async def _import_till(run: Run, store: str, batch: tuple[PosSale, ...]) -> str:
    query = [("channel", "SALES_CHANNEL_POS"), ("externalId", batch[0].external_id), ("pageSize", "1")]
    if (await run.api.get(f"look for till receipts of {store}", "/v1/orders", query)).get("orders"):
        return f"{store} already imported"
    # Sale times follow today's date, so the request id does too: a rerun on
    # the same day replays, and the check above keeps a later day from importing.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    body = {
        "channel": "SALES_CHANNEL_POS",
        "sales": [
            {
                "externalId": sale.external_id,
                "warehouse": run.warehouses[store],
                "lines": lines_json(sale.lines),
                "soldTime": _rfc3339(today - timedelta(days=sale.days_ago) + timedelta(minutes=sale.minute)),
            }
            for sale in batch
        ],
    }
    key = run.key("till", store, today.date().isoformat())
    step = f"import till receipts of {store}"
    reply = await run.one("ROLE_CLERK").post(step, "/v1/orders:importSales", body, key=key)
    booked, rejected = int(reply.get("bookedCount", 0)), int(reply.get("rejectedCount", 0))
    return f"{store} {booked} booked" + (f" ({rejected} rejected)" if rejected else "")


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
