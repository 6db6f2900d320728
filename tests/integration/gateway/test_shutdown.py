"""SIGTERM to the gateway ends its open streams at once, each with an error
event that tells the client to reconnect, instead of holding the shutdown
for the whole grace period."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from tests.conftest import Stacks, create_tenant
from tests.integration.gateway.conftest import BACKEND, Rest, start_gateway
from tests.integration.gateway.test_rest import warehouse

GRACE_SECONDS = 60


def test_sigterm_ends_open_event_streams_with_a_reconnect_error_and_exits_long_before_the_grace(
    stacks: Stacks, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gateway = start_gateway(
        stacks,
        tmp_path_factory.mktemp("stopping-gateway"),
        env={"STOCKMESH_GRACE_SECONDS": str(GRACE_SECONDS)},
    )
    slug, email = create_tenant(stacks.user(BACKEND).database_url)
    with httpx.Client(base_url=gateway.base_url, timeout=20.0) as http:
        rest = Rest(http, slug, email)
        rest.token = rest.login()["tokens"]["accessToken"]
        where = warehouse(rest)
        headers = {**rest.auth(), "Accept": "text/event-stream"}
        with http.stream("GET", f"/v1/{where}/stockLevels:watch", headers=headers) as stream:
            lines = stream.iter_lines()
            assert next(lines) == ": stream open"
            assert gateway.process is not None
            started = time.monotonic()
            threading.Timer(0.2, gateway.process.terminate).start()
            rest_of_stream = list(lines)
        exit_code = gateway.process.wait(timeout=GRACE_SECONDS + 10)
        stopped_after = time.monotonic() - started

    assert "event: error" in rest_of_stream
    error = json.loads(next(line for line in rest_of_stream if line.startswith("data: "))[6:])
    assert error["code"] == 14  # UNAVAILABLE
    assert error["details"][0]["reason"] == "SERVER_SHUTTING_DOWN"
    assert exit_code == 0
    assert stopped_after < GRACE_SECONDS / 2, "an open stream held the shutdown for the grace period"
