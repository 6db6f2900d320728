"""The operator console, in headless Chromium against `stockmesh up` with the
demo tenant: signing in and out, live stock while another client receives
over REST, a level's history, replenishment, receiving by typed barcodes,
counts and adjustments, shipping an order, what a viewer is not offered,
the API's errors on screen, and keyboard-only use. axe-core runs on every
screen; the screenshots in docs/console.md come from these tests."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.browser import DESK, FLAGS, PHONE, Console, chromium_path, password
from tests.e2e.system import BASE_URL, TENANT, System, demo, running
from tests.support.fault_proxy import TcpResetProxy

LIVE_WITHIN_MS = 5_000  # generous for a loaded CI machine; the delay seen is printed


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


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running(tmp_path_factory.mktemp("console-home")) as started:
        done = demo(started)
        assert done.returncode == 0, done.stdout + done.stderr
        yield started


@pytest.fixture(scope="module")
def browser(system: System) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def admin() -> Iterator[Rest]:
    rest = Rest("admin")
    yield rest
    rest.client.close()


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


def test_signing_in_shows_the_stock_and_signing_out_ends_the_session(browser: Browser) -> None:
    page = console(browser, "clerk")
    expect(page.page.get_by_role("heading", name="Stock")).to_be_visible()
    expect(page.page.locator("tbody tr").first).to_be_visible()
    expect(page.page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.assert_accessible()
    page.shot("stock")
    page.page.get_by_role("button", name="Sign out").click()
    expect(page.page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.page.get_by_text("You are signed out.")).to_be_visible()
    page.page.reload()
    expect(page.page.get_by_role("button", name="Sign in")).to_be_visible()
    page.close()


def test_stock_is_found_by_name_words_and_by_barcode(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    level = admin.get(f"/v1/{warehouse['name']}/stockLevels", pageSize=1)["stockLevels"][0]
    variant = admin.get("/v1/products/-/variants:lookupSku", sku=level["sku"])["variant"]
    page = console(browser, "viewer")
    page.go(f"/stock?warehouse={warehouse['name']}")
    search = page.page.get_by_label("SKU, name or barcode")
    for typed in (variant["productDisplayName"].lower(), variant["barcode"], level["sku"].lower()):
        search.fill(typed)
        search.press("Enter")
        expect(page.page.locator(f"tr[data-sku='{level['sku']}']")).to_be_visible()
    search.fill("no-such-thing-anywhere")
    search.press("Enter")
    expect(page.page.get_by_text("Nothing in the catalog matches")).to_be_visible()
    page.close()


def test_the_access_token_is_renewed_before_it_expires(browser: Browser) -> None:
    page = Console.open(browser, "clerk")
    page.page.clock.install()
    page.sign_in()
    first = page.page.evaluate("JSON.parse(sessionStorage.getItem('stockmesh.session')).tokens")
    with page.page.expect_response(lambda r: r.url.endswith("/v1/auth:refresh")) as renewal:
        # A minute before the 15-minute token runs out, the page asks for a new one.
        page.page.clock.run_for("14:05")
    assert renewal.value.status == 200
    page.page.wait_for_function(
        "old => JSON.parse(sessionStorage.getItem('stockmesh.session')).tokens.accessToken !== old",
        arg=first["accessToken"],
    )
    page.go("/orders")
    expect(page.page.locator("tbody tr").first).to_be_visible()
    page.close()


def test_a_wrong_password_shows_the_apis_own_message(browser: Browser) -> None:
    page = Console.open(browser, "clerk")
    page.page.goto("/console")
    email, _ = password("clerk")
    refused = httpx.post(
        f"{BASE_URL}/v1/auth:login", json={"tenant": TENANT, "email": email, "password": "Not-It-0000"}
    )
    assert refused.status_code == 401
    page.page.get_by_label("Tenant").fill(TENANT)
    page.page.get_by_label("Email").fill(email)
    page.page.get_by_label("Password").fill("Not-It-0000")
    page.page.get_by_role("button", name="Sign in").click()
    expect(page.page.get_by_role("alert")).to_contain_text(refused.json()["message"])
    page.assert_accessible()
    page.shot("sign-in-refused")
    page.close()


def test_a_level_changes_live_while_another_client_receives_stock(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    level = admin.get(f"/v1/{warehouse['name']}/stockLevels", pageSize=1)["stockLevels"][0]
    page = console(browser, "clerk")
    page.go(f"/stock?warehouse={warehouse['name']}&q={level['sku']}")
    row = page.page.locator(f"tr[data-sku='{level['sku']}']")
    on_hand = row.locator("[data-field='onHand']")
    expect(on_hand).to_have_text(str(int(level["onHand"])))
    expect(page.page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    started = time.monotonic()
    admin.post(
        f"/v1/{warehouse['name']}/stockLevels:receive", {"lines": [{"sku": level["sku"], "quantity": 7}]}
    )
    expect(on_hand).to_have_text(str(int(level["onHand"]) + 7), timeout=LIVE_WITHIN_MS)
    print(f"live change shown {1000 * (time.monotonic() - started):.0f} ms after the receipt committed")
    expect(row).to_have_class(re.compile("changed"))
    page.close()


def test_a_lost_stream_says_so_and_resumes_after_its_last_event(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    level = admin.get(f"/v1/{warehouse['name']}/stockLevels", pageSize=1)["stockLevels"][0]
    # The page reaches the gateway through a proxy that can cut its connections.
    proxy = TcpResetProxy("127.0.0.1", 8080)
    port = proxy.start()
    try:
        page = Console.open(browser, "clerk", base_url=f"http://127.0.0.1:{port}")
        page.sign_in()
        page.go(f"/stock?warehouse={warehouse['name']}&q={level['sku']}")
        on_hand = page.page.locator(f"tr[data-sku='{level['sku']}'] [data-field='onHand']")
        expect(on_hand).to_have_text(str(int(level["onHand"])))
        expect(page.page.get_by_role("status").filter(has_text="Live")).to_be_visible()

        # The network goes: the open stream is reset, and so are the next two reconnections.
        proxy.reset_connections(2)
        proxy.reset_open_connections()
        expect(page.page.get_by_role("status").filter(has_text="Connection lost")).to_be_visible()
        page.shot("stock-reconnecting")
        # Booked while the page is away: it arrives when the stream resumes, not skipped.
        admin.post(
            f"/v1/{warehouse['name']}/stockLevels:receive", {"lines": [{"sku": level["sku"], "quantity": 3}]}
        )
        expect(page.page.get_by_role("status").filter(has_text="Live again")).to_be_visible(timeout=20_000)
        expect(on_hand).to_have_text(str(int(level["onHand"]) + 3))
        page.close()
    finally:
        proxy.close()


def test_a_levels_history_lists_its_movements_and_charts_on_hand(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    movements = admin.get("/v1/movements", warehouse=warehouse["name"], newestFirst="true", pageSize=1)
    sku = movements["movements"][0]["sku"]
    page = console(browser, "manager")
    page.go(f"/stock?warehouse={warehouse['name']}&q={sku}")
    page.page.get_by_role("link", name=sku).click()
    expect(page.page.get_by_role("heading", name=sku)).to_be_visible()
    table = page.page.get_by_role("table", name=f"Movements of {sku}, newest first")
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text(movements["movements"][0]["requestId"])
    expect(page.page.locator("figure.chart canvas")).to_be_visible()
    expect(page.page.get_by_role("link", name="Adjust")).to_be_visible()
    page.assert_accessible()
    page.shot("level")
    page.close()


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


def test_a_count_and_an_adjustment_are_booked_with_their_reason(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    level = stocked(admin, warehouse)
    page = console(browser, "manager")
    page.go(f"/counts?warehouse={warehouse['name']}&mode=adjust")
    scan = page.page.get_by_label("Scan a barcode or type a SKU, then Enter")
    scan.fill(level["sku"])
    scan.press("Enter")
    page.page.get_by_label(f"Change for {level['sku']}").fill("-2")
    page.page.get_by_label(f"Reason for {level['sku']}").select_option(label="Damage")
    page.assert_accessible()
    page.shot("counts")
    page.page.get_by_role("button", name="Book adjustment").click()
    expect(page.page.get_by_role("status").filter(has_text="Adjustment booked")).to_be_visible()
    latest = admin.get("/v1/movements", warehouse=warehouse["name"], sku=level["sku"], newestFirst="true")
    assert latest["movements"][0]["reason"] == "ADJUSTMENT_REASON_DAMAGE"
    assert latest["movements"][0]["quantityDelta"] == "-2"

    page.page.get_by_label("Cycle count").check()
    scan.fill(level["sku"])
    scan.press("Enter")
    page.page.get_by_label(f"Counted for {level['sku']}").fill("40")
    page.page.get_by_role("button", name="Record count").click()
    expect(page.page.get_by_role("status").filter(has_text="Count recorded")).to_be_visible()
    assert admin.get(f"/v1/{level['name']}")["stockLevel"]["onHand"] == "40"
    page.close()


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


def test_a_viewer_is_offered_nothing_that_changes_stock(browser: Browser, admin: Rest) -> None:
    warehouse = central(admin)
    level = admin.get(f"/v1/{warehouse['name']}/stockLevels", pageSize=1)["stockLevels"][0]
    po, _, _ = open_order_with_barcodes(admin)
    page = console(browser, "viewer")
    nav = page.page.get_by_role("navigation", name="Screens")
    expect(nav.get_by_role("link", name="Stock", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Counts")).to_have_count(0)
    reading = {"Sign out", "Search", "Previous", "Next", "Propose replenishment"}
    warehouse_id = warehouse["name"].split("/")[1]
    for fragment in (
        "/stock",
        f"/levels/{warehouse_id}/{level['sku']}",
        f"/low-stock?warehouse={warehouse['name']}",
        f"/purchase-orders/{po['name'].split('/')[1]}",
        "/orders?status=ORDER_STATUS_RESERVED",
    ):
        page.go(fragment)
        expect(page.page.locator("main h1")).to_be_visible()
        expect(page.page.get_by_text("Loading…")).to_have_count(0)
        buttons = set(page.page.get_by_role("button").all_inner_texts())
        assert buttons <= reading, (fragment, buttons - reading)
        assert page.page.get_by_role("link", name=re.compile("^(Count|Adjust)$")).count() == 0
        assert page.page.get_by_role("textbox").count() <= 1, fragment  # the search box alone
    page.go("/counts")
    expect(page.page.get_by_text("Your role cannot use this screen.")).to_be_visible()
    page.close()


def test_keyboard_alone_signs_in_and_reaches_every_screen(browser: Browser) -> None:
    page = Console.open(browser, "manager")
    page.page.goto("/console")
    email, secret = password("manager")
    keyboard = page.page.keyboard
    page.page.get_by_label("Tenant").focus()
    keyboard.type(TENANT)
    keyboard.press("Tab")
    keyboard.type(email)
    keyboard.press("Tab")
    keyboard.type(secret)
    keyboard.press("Enter")
    expect(page.page.get_by_role("heading", name="Stock")).to_be_visible()
    for screen in ("Low stock", "Receiving", "Counts", "Orders", "Stock"):
        for _ in range(150):
            keyboard.press("Tab")
            focused = page.page.evaluate("document.activeElement?.textContent?.trim()")
            if focused == screen:
                break
        else:
            raise AssertionError(f"Tab never reached the {screen} link")
        keyboard.press("Enter")
        expect(page.page.locator("main h1")).to_contain_text(screen)
        page.assert_accessible()
    page.close()
