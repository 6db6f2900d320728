"""The work of the day: low stock turned into a reviewed proposal and draft
purchase orders, a purchase order received by typed barcodes at phone width
(and an over-receipt refused), an order shipped and partly returned, another
cancelled."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.browser import PHONE
from tests.e2e.console.actors import Rest, central, console, new_order, open_order_with_barcodes


def test_low_stock_becomes_a_reviewed_proposal_and_draft_purchase_orders(
    browser: Browser, admin: Rest
) -> None:
    warehouse = central(admin)
    page = console(browser, "buyer")
    page.go(f"/low-stock?warehouse={warehouse['name']}")
    expect(page.page.get_by_role("table", name="Levels at or below their reorder point")).to_be_visible()
    page.page.get_by_role("button", name="Propose replenishment").click()
    proposal = page.page.get_by_role("table", name="Replenishment proposal")
    expect(proposal).to_be_visible()
    proposal.get_by_text("Explanation").first.click()
    page.assert_accessible()
    page.shot("low-stock")
    drafts_before = admin.get("/v1/purchaseOrders", states="PURCHASE_ORDER_STATE_DRAFT", pageSize=1000)
    page.page.get_by_role("button", name="Create draft purchase orders").click()
    created = page.page.get_by_role("status").filter(has_text="draft purchase order")
    expect(created).to_be_visible()
    drafts_after = admin.get("/v1/purchaseOrders", states="PURCHASE_ORDER_STATE_DRAFT", pageSize=1000)
    added = {po["number"] for po in drafts_after["purchaseOrders"]} - {
        po["number"] for po in drafts_before["purchaseOrders"]
    }
    assert added
    for number in added:
        expect(created).to_contain_text(number)
    page.close()


def test_receiving_a_purchase_order_by_typed_barcodes_at_phone_width(browser: Browser, admin: Rest) -> None:
    po, line, barcode = open_order_with_barcodes(admin)
    page = console(browser, "clerk", PHONE)
    page.go("/purchase-orders")
    page.page.get_by_role("link", name=po["number"]).click()
    scan = page.page.get_by_label("Scan a barcode or type a SKU, then Enter")
    for _ in range(2):
        # A keyboard-wedge scanner: the digits, then Enter.
        scan.press_sequentially(barcode)
        scan.press("Enter")
        expect(scan).to_have_value("")
    receiving = page.page.get_by_label(f"Receiving now for {line['sku']}")
    expect(receiving).to_have_value("2")
    page.assert_accessible()
    page.shot("receiving-phone")
    page.page.get_by_role("button", name="Receive 2 units").click()
    expect(page.page.get_by_role("status").filter(has_text="Received 2 units")).to_be_visible()
    after = admin.get(f"/v1/{po['name']}")["purchaseOrder"]
    got = next(x for x in after["lines"] if x["sku"] == line["sku"])
    assert int(got["quantityReceived"]) == int(line.get("quantityReceived", "0")) + 2

    # More than is still open on the line: the API refuses, the page says why, nothing is received.
    left = int(got["quantityOrdered"]) - int(got["quantityReceived"])
    receiving.fill(str(left + 5))
    page.page.get_by_role("button", name=re.compile(r"^Receive \d+ units$")).click()
    alert = page.page.get_by_role("alert")
    expect(alert).to_be_visible()
    refused = admin.client.post(
        f"/v1/{po['name']}:receive", json={"lines": [{"sku": line["sku"], "quantity": str(left + 5)}]}
    )
    assert refused.status_code == 400
    expect(alert).to_contain_text(refused.json()["message"])
    page.shot("receiving-over-receipt")
    assert admin.get(f"/v1/{po['name']}")["purchaseOrder"]["lines"] == after["lines"]
    page.close()


def test_an_order_is_shipped_and_then_partly_returned_from_its_page(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    created = new_order(admin, warehouse, 2)
    sku = created["lines"][0]["sku"]
    page = console(browser, "clerk")
    page.go(f"/orders?status=ORDER_STATUS_RESERVED&warehouse={warehouse['name']}")
    expect(page.page.get_by_role("heading", name="Orders")).to_be_visible()
    page.assert_accessible()
    page.shot("orders")
    page.page.get_by_role("link", name=created["number"]).click()
    page.page.get_by_label("Carrier").fill("DHL")
    page.page.get_by_label("Tracking number").fill("00340434161094042557")
    page.assert_accessible()
    page.shot("order")
    page.page.get_by_role("button", name="Ship order").click()
    heading = page.page.get_by_role("heading", name=created["number"])
    expect(heading).to_contain_text("Shipped")
    assert admin.get(f"/v1/{created['name']}")["order"]["status"] == "ORDER_STATUS_SHIPPED"

    page.page.get_by_label(re.compile(f"^{re.escape(sku)} ")).fill("1")
    page.page.get_by_label("Reason", exact=True).select_option(label="Damaged")
    page.page.get_by_role("button", name="Book return").click()
    expect(heading).to_contain_text("Partially returned")
    returned = admin.get(f"/v1/{created['name']}")["order"]
    assert returned["lines"][0]["returnedQuantity"] == "1"
    assert returned["returns"][0]["reason"] == "RETURN_REASON_DAMAGED"
    page.close()


def test_a_reserved_order_is_cancelled_with_its_reason(browser: Browser, admin: Rest) -> None:
    created = new_order(admin, central(admin), 1)
    page = console(browser, "manager")
    page.go(f"/orders/{created['name'].split('/')[1]}")
    page.page.get_by_label("Reason").fill("customer called to cancel")
    page.page.get_by_role("button", name="Cancel order").click()
    expect(page.page.get_by_role("heading", name=created["number"])).to_contain_text("Cancelled")
    after = admin.get(f"/v1/{created['name']}")["order"]
    assert after["status"] == "ORDER_STATUS_CANCELLED"
    assert after["cancelReason"] == "customer called to cancel"
    page.close()
