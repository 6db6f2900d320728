"""The operator console's browser tests share one system (`stockmesh up` with
the demo tenant, on the default ports), one Chromium, and an admin REST client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser import FLAGS, chromium_path
from tests.e2e.console.actors import Rest
from tests.e2e.system import System, demo, running


@pytest.fixture(scope="package")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running(tmp_path_factory.mktemp("console-home")) as started:
        done = demo(started)
        assert done.returncode == 0, done.stdout + done.stderr
        yield started


@pytest.fixture(scope="package")
def browser(system: System) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def admin(system: System) -> Iterator[Rest]:
    rest = Rest("admin")
    yield rest
    rest.client.close()
