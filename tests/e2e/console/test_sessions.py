"""Signing in and out, the API's own message for a wrong password, the
access token renewed before it expires, what a viewer is not offered, and
the whole console by keyboard alone; axe-core on the screens it visits."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.browser import LIVE, Console, password
from tests.e2e.console.actors import Rest, central, console, open_order_with_barcodes
from tests.e2e.system import BASE_URL, TENANT


def test_signing_in_shows_the_stock_and_signing_out_ends_the_session(browser: Browser) -> None:
    page = console(browser, "clerk")
    expect(page.page.get_by_role("heading", name="Stock")).to_be_visible()
    expect(page.page.locator("tbody tr").first).to_be_visible()
    expect(page.live_status(LIVE)).to_be_visible()
    page.assert_accessible()
    page.shot("stock")
    page.page.get_by_role("button", name="Sign out").click()
    expect(page.page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.page.get_by_text("You are signed out.")).to_be_visible()
    page.page.reload()
    expect(page.page.get_by_role("button", name="Sign in")).to_be_visible()
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
