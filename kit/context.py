"""Per-call values that follow a request through logs and outgoing calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
# A tester's request for the canary: every call made for it carries the
# header on, so the mesh routes each hop to subset v2 (the VirtualServices'
# canary-tester routes), not only the first.
CANARY_HEADER = "x-stockmesh-canary"
canary: ContextVar[str] = ContextVar("canary", default="")
# Set while a service does system work for one tenant, with no user behind it.
system_tenant: ContextVar[str] = ContextVar("system_tenant", default="")


@contextmanager
def system_work(tenant_id: str) -> Iterator[None]:
    """Outgoing calls made inside carry no user token but this service's own
    identity (mTLS) and the tenant; the callee admits them only where its
    rules name this service (e.g. svc_stock's ReceiveStock for svc-procure)."""
    reset = system_tenant.set(tenant_id)
    try:
        yield
    finally:
        system_tenant.reset(reset)


def trace_id() -> str:
    """The W3C trace id (32 hex digits) of the current call, or ""."""
    from opentelemetry import trace

    span = trace.get_current_span().get_span_context()
    return format(span.trace_id, "032x") if span.is_valid else ""
