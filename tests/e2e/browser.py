"""The console as its users see it: Debian's chromium driven by Playwright
(the executable path is set; nothing downloads a browser), a page signed in
as one of the demo users, axe-core run on a screen, and screenshots.

Every page fails its test on an uncaught script error or a Content Security
Policy violation, so the gateway's policy is proven to hold for the real app.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.e2e.system import BASE_URL, ROOT, TENANT
from tools.demo_plan import USERS

# Debian's chromium by default; STOCKMESH_CHROMIUM names another Chromium build (a CI image's
# Google Chrome, where the distribution's package is only a snap shim).
CHROMIUM = os.environ.get("STOCKMESH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a browser in a test: no sandbox (CI runs as root), no GPU, no calls home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Where screenshots go: docs/console/ when `make console-screenshots` asks for them.
SHOTS = Path(os.environ.get("STOCKMESH_CONSOLE_SCREENSHOTS") or ROOT / ".build" / "console-screenshots")
# The live status once the watch's snapshot is complete: "Live" alone (`Console.live_status`).
LIVE = r"^\s*Live\s*$"
DESK = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        missing = "Debian's chromium is not installed: `make test` installs it (ci/debian-packages.sh)"
        pytest.fail(missing, pytrace=False)
    return CHROMIUM


def password(role: str) -> tuple[str, str]:
    user = next(u for u in USERS if u.role == f"ROLE_{role.upper()}")
    return user.email(TENANT), user.password


@dataclass
class Console:
    page: Page
    role: str
    problems: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls, browser: Browser, role: str, viewport: dict[str, int] = DESK, base_url: str = BASE_URL
    ) -> Console:
        context = browser.new_context(viewport=viewport, base_url=base_url)  # type: ignore[arg-type]
        page = context.new_page()
        console = cls(page, role)
        page.on("pageerror", lambda error: console.problems.append(f"uncaught: {error}"))
        page.on("console", console._watch)
        return console

    def _watch(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def sign_in(self, role: str | None = None) -> None:
        email, secret = password(role or self.role)
        self.page.goto("/console")
        self.page.get_by_label("Tenant").fill(TENANT)
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(secret)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def go(self, fragment: str) -> None:
        self.page.goto(f"/console#{fragment}")

    def live_status(self, pattern: str) -> Locator:
        """The live-updates status line when its text matches `pattern` (a
        case-sensitive regular expression). A plain `has_text="Live"` matches
        any part in any case, so "Connecting to live updates…" would pass for
        "Live" before the watch's snapshot is complete."""
        return self.page.get_by_role("status").filter(has_text=re.compile(pattern))

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, so the page's CSP does not apply to it.
            self.page.evaluate(AXE.read_text() + "\n;0")
        found: list[dict[str, Any]] = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        return found

    def assert_accessible(self) -> None:
        violations = self.axe()
        assert not violations, json.dumps(violations, indent=2)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.page.context.close()
        assert not self.problems, "\n".join(self.problems)
