"""What the edge records of each request: Prometheus metrics labelled by route
template (never the raw path, whose ids would make a series per resource),
a server span continuing the caller's `traceparent`, and one JSON access-log
line carrying the request and trace ids."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger("gateway.access")
tracer = trace.get_tracer("gateway")

UNMATCHED = "unmatched"

requests = Counter(
    "http_server_requests_total",
    "HTTP requests answered by the gateway, by method, route template and status.",
    ("method", "route", "status"),
)
duration = Histogram(
    "http_server_request_duration_seconds",
    "Time from a request's arrival to its response (for streams: to the stream's start).",
    ("method", "route"),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
open_streams = Gauge(
    "stockmesh_gateway_open_streams",
    "Server streams (server-sent events or NDJSON) open now.",
    ("route",),
)


def span(method: str, route: str, headers: Mapping[str, str]) -> AbstractContextManager[trace.Span]:
    """The request's server span, the child of the caller's trace if any."""
    return tracer.start_as_current_span(
        f"{method} {route}",
        context=propagate.extract(headers),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": route},
        record_exception=False,
        set_status_on_exception=False,
    )


def finish(
    current: trace.Span,
    *,
    method: str,
    route: str,
    status: int,
    started: float,
    client: str,
    reason: str = "",
) -> None:
    elapsed = time.perf_counter() - started
    requests.labels(method, route, str(status)).inc()
    duration.labels(method, route).observe(elapsed)
    current.set_attribute("http.response.status_code", status)
    if route != UNMATCHED:
        current.update_name(f"{method} {route}")
        current.set_attribute("http.route", route)
    if status >= 500:
        current.set_status(Status(StatusCode.ERROR, str(status)))
    extra = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "client": client,
    }
    if reason:
        extra["reason"] = reason
    log.info("http", extra=extra)
