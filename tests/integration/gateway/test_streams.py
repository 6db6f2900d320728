"""Live stock over HTTP: server-sent events whose ids are the stream's
cursors, so a reconnect with Last-Event-ID resumes exactly; NDJSON for other
clients; a real HTTP status when a stream is refused before it starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.integration.gateway.conftest import Rest
from tests.integration.gateway.test_rest import product, variant, warehouse


@dataclass
class Event:
    id: str
    data: dict[str, Any]


def events(reply: httpx.Response) -> Iterator[Event]:
    """The data events of an SSE response, comments (heartbeats) skipped."""
    event_id, data = "", ""
    for line in reply.iter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            yield Event(event_id, json.loads(data))
            event_id, data = "", ""


def receive(rest: Rest, where: str, sku: str, quantity: int) -> None:
    reply = rest.post(f"/v1/{where}/stockLevels:receive", {"lines": [{"sku": sku, "quantity": quantity}]})
    assert reply.status_code == 200, reply.text


def watch(rest: Rest, where: str, **headers: str) -> Any:
    return rest.http.stream(
        "GET",
        f"/v1/{where}/stockLevels:watch",
        headers={**rest.auth(), "Accept": "text/event-stream", **headers},
        timeout=httpx.Timeout(20.0),
    )


def test_a_subscriber_that_reconnects_with_last_event_id_sees_exactly_what_it_missed(rest: Rest) -> None:
    where = warehouse(rest)
    sku = variant(rest, product(rest)["name"])["sku"]

    with watch(rest, where) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        receive(rest, where, sku, 1)
        receive(rest, where, sku, 2)
        seen = []
        for event in events(stream):
            seen.append(event)
            if len(seen) == 2:
                break
    # Disconnected: these happen while nobody listens.
    receive(rest, where, sku, 3)
    receive(rest, where, sku, 4)
    with watch(rest, where, **{"Last-Event-ID": seen[-1].id}) as resumed:
        receive(rest, where, sku, 5)
        missed = []
        for event in events(resumed):
            missed.append(event)
            if len(missed) == 3:
                break

    assert [e.data["stockLevel"]["onHand"] for e in seen] == ["1", "3"]
    assert [e.data["stockLevel"]["onHand"] for e in missed] == ["6", "10", "15"]
    sequences = [int(e.data["movement"]["sequence"]) for e in seen + missed]
    assert sequences == sorted(set(sequences))  # in order, none twice
    assert all(e.id == e.data["cursor"] for e in seen + missed)


def test_a_stream_refused_before_its_first_message_gets_a_real_http_status(rest: Rest) -> None:
    with watch(rest, "warehouses/nowhere") as unknown:
        unknown.read()
    with watch(rest, "warehouses/-", **{"Last-Event-ID": "not-a-cursor"}) as bad_cursor:
        bad_cursor.read()
    no_token = rest.http.get("/v1/warehouses/-/stockLevels:watch", headers={"Accept": "text/event-stream"})

    assert unknown.status_code == 404
    assert unknown.json()["details"][0]["reason"] == "NOT_FOUND"
    assert bad_cursor.status_code == 400
    assert no_token.status_code == 401


def test_without_event_stream_the_changes_come_as_newline_delimited_json(rest: Rest) -> None:
    where = warehouse(rest)
    sku = variant(rest, product(rest)["name"])["sku"]

    with rest.http.stream(
        "GET", f"/v1/{where}/stockLevels:watch", headers=rest.auth(), timeout=httpx.Timeout(20.0)
    ) as stream:
        assert stream.headers["content-type"].startswith("application/x-ndjson")
        receive(rest, where, sku, 2)
        messages = (json.loads(line) for line in stream.iter_lines() if line.strip())
        first = next(m for m in messages if m["type"] != "WATCH_EVENT_TYPE_HEARTBEAT")

    assert first["type"] == "WATCH_EVENT_TYPE_CHANGE"
    assert first["stockLevel"]["onHand"] == "2"
