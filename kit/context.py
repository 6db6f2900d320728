"""Per-call values that follow a request through logs and outgoing calls."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
method: ContextVar[str] = ContextVar("method", default="")
