"""Per-call values that follow a request through logs and outgoing calls."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
method: ContextVar[str] = ContextVar("method", default="")


def trace_id() -> str:
    """The W3C trace id (32 hex digits) of the current call, or ""."""
    from opentelemetry import trace

    span = trace.get_current_span().get_span_context()
    return format(span.trace_id, "032x") if span.is_valid else ""
