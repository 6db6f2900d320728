"""The server side of every call, in one interceptor: the trace span, request
id, who is calling, the mesh's AuthorizationPolicy for the calling workload,
the RPC's access rule for the user, error mapping, metrics and the log line.

One interceptor rather than a stack of them because the steps share state
(the metadata, the start time, the final status code) and their order is
fixed: continue the trace, identify, admit, run, map the outcome, record it.
The server span follows OpenTelemetry's gRPC conventions (name, kind and rpc.*
attributes, as opentelemetry-instrumentation-grpc's interceptor sets them),
started here rather than by that interceptor: wrapping every call in a second
interceptor, a new handler and a proxied context cost a quarter of a
millisecond of CPU a call, as much as the rest of this pipeline.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeAlias

import grpc
from grpc import aio
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from kit import auth, context, errors, metrics, status
from kit.peers import Workloads
from kit.rpc import Context

log = logging.getLogger("kit.rpc")
tracer = trace.get_tracer("kit.pipeline")

# Infrastructure services: the kubelet, the mesh and grpcurl must reach them
# without a user token. Workload identity (mTLS) still applies.
INFRASTRUCTURE = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

Behavior = Callable[..., Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class Method:
    """What the pipeline knows of one RPC method, built on its first call."""

    def __init__(self, name: str, rule: auth.Rule, grpc_type: str, *, quiet: bool) -> None:
        service, _, short = name[1:].rpartition("/")
        self.name = name
        self.rule = rule
        self.quiet = quiet
        self.labels = {"grpc_type": grpc_type, "grpc_service": service, "grpc_method": short}
        self.attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": short}
        self.started = metrics.started.labels(**self.labels)
        self.handling_seconds = metrics.handling_seconds.labels(**self.labels)
        self.msg_sent = metrics.msg_sent.labels(**self.labels)
        self._handled: dict[grpc.StatusCode, Any] = {}

    def handled(self, code: grpc.StatusCode) -> Any:
        counter = self._handled.get(code)
        if counter is None:
            counter = self._handled[code] = metrics.handled.labels(**self.labels, grpc_code=code.name)
        return counter


class CallPipeline(aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(
        self,
        rules: Mapping[str, auth.Rule],
        verifier: auth.TokenVerifier,
        *,
        workloads: Workloads,
    ) -> None:
        self.rules = rules
        self.verifier = verifier
        self.workloads = workloads
        # The wrapped handler of each method, built on its first call: the
        # registered handlers never change while the server runs.
        self._wrapped: dict[str, Handler] = {}
        # Server streams running now: at shutdown they are ended at once
        # (a stream may last forever, and would hold the whole grace period).
        self._streams: set[asyncio.Task[Any]] = set()

    def end_streams(self) -> int:
        """End every server stream now with UNAVAILABLE, which tells its
        client to reconnect (to another replica) and resume; returns how many."""
        for task in self._streams:
            task.cancel(_SHUTDOWN)
        return len(self._streams)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        details: grpc.HandlerCallDetails,
    ) -> Handler:
        method: str = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            handler = await continuation(details)
            if handler is None:
                return None
            wrapped = self._wrapped[method] = self._wrap(handler, method)
        return wrapped

    def _wrap(self, handler: Handler, method: str) -> Handler:
        quiet = method.startswith(INFRASTRUCTURE)
        if quiet:
            rule = auth.PUBLIC
        else:
            found = self.rules.get(method)
            if found is None:
                raise RuntimeError(f"no access rule for {method}")  # bootstrap checks prevent this
            rule = found
        kw = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            call = functools.partial(
                self._unary, handler.unary_unary, Method(method, rule, "UNARY", quiet=quiet)
            )
            return grpc.unary_unary_rpc_method_handler(call, **kw)
        if handler.unary_stream:
            stream = functools.partial(
                self._stream, handler.unary_stream, Method(method, rule, "SERVER_STREAM", quiet=quiet)
            )
            return grpc.unary_stream_rpc_method_handler(stream, **kw)
        if handler.stream_unary:
            call = functools.partial(
                self._unary, handler.stream_unary, Method(method, rule, "CLIENT_STREAM", quiet=quiet)
            )
            return grpc.stream_unary_rpc_method_handler(call, **kw)
        assert handler.stream_stream is not None
        stream = functools.partial(
            self._stream, handler.stream_stream, Method(method, rule, "BIDI_STREAM", quiet=quiet)
        )
        return grpc.stream_stream_rpc_method_handler(stream, **kw)

    async def _unary(self, inner: Behavior, method: Method, request: Any, ctx: Context) -> Any:
        metadata = dict(ctx.invocation_metadata() or ())
        with _server_span(method, metadata) as span:
            started = self._begin(metadata, method)
            code = grpc.StatusCode.OK
            try:
                await self._admit(ctx, metadata, method)
                return await inner(request, ctx)
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except Exception as exc:
                code, sent = _outcome(ctx, exc, method.name)
                if sent is None:
                    raise
                await ctx.abort(sent.code, sent.details, sent.trailing_metadata)
            finally:
                self._end(span, method, started, code)

    async def _stream(
        self, inner: Behavior, method: Method, request: Any, ctx: Context
    ) -> AsyncIterator[Any]:
        metadata = dict(ctx.invocation_metadata() or ())
        task = asyncio.current_task()
        with _server_span(method, metadata) as span:
            started = self._begin(metadata, method)
            code = grpc.StatusCode.OK
            try:
                if task is not None:
                    self._streams.add(task)
                await self._admit(ctx, metadata, method)
                async for message in inner(request, ctx):
                    method.msg_sent.inc()
                    yield message
            except asyncio.CancelledError as exc:
                if not (exc.args and exc.args[0] is _SHUTDOWN and task is not None):
                    code = grpc.StatusCode.CANCELLED
                    raise
                # Ended by the server, not by the client: the call goes on
                # long enough to tell the client why.
                task.uncancel()
                ending = status.to_status(_shutting_down())
                code = ending.code
                await ctx.abort(ending.code, ending.details, ending.trailing_metadata)
            except Exception as exc:
                code, sent = _outcome(ctx, exc, method.name)
                if sent is None:
                    raise
                await ctx.abort(sent.code, sent.details, sent.trailing_metadata)
            finally:
                if task is not None:
                    self._streams.discard(task)
                self._end(span, method, started, code)

    def _begin(self, metadata: Mapping[str, Any], method: Method) -> float:
        incoming = metadata.get("x-request-id")
        context.request_id.set(incoming if isinstance(incoming, str) and incoming else uuid.uuid4().hex)
        canary = metadata.get(context.CANARY_HEADER)
        context.canary.set(canary if isinstance(canary, str) else "")
        method.started.inc()
        return time.perf_counter()

    async def _admit(self, ctx: Context, metadata: Mapping[str, Any], method: Method) -> None:
        rule = method.rule
        peer = self.workloads.identify(ctx, metadata)
        auth.current.set(auth.Caller(None, peer, None))
        self.workloads.authorize(peer, method.name)
        token = auth.bearer(metadata) if not rule.public else None
        if token:
            principal: auth.Principal | None = await self.verifier.verify(token)
        elif rule.services and auth.account_of(peer) in rule.services:
            principal = auth.service_principal(auth.account_of(peer), metadata)
        else:
            principal = None
        rule.admit(principal, method.name)
        auth.current.set(auth.Caller(principal, peer, token))
        if principal is not None and principal.service:
            # System work stays system work downstream, in the same tenant.
            context.system_tenant.set(principal.tenant_id)

    def _end(self, span: trace.Span, method: Method, started: float, code: grpc.StatusCode) -> None:
        elapsed = time.perf_counter() - started
        method.handled(code).inc()
        method.handling_seconds.observe(elapsed)
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in status.SERVER_FAULTS:
            span.set_status(Status(StatusCode.ERROR, code.name))
        caller = auth.current.get()
        who = caller.principal
        log.log(
            logging.DEBUG if method.quiet else logging.INFO,
            "rpc",
            extra={
                "method": method.name,
                "code": code.name,
                "duration_ms": round(elapsed * 1000, 3),
                "peer": caller.peer,
                "tenant_id": who.tenant_id if who else None,
                "user_id": who.user_id if who else None,
            },
        )


def _server_span(method: Method, metadata: Mapping[str, Any]) -> AbstractContextManager[trace.Span]:
    """The call's span, the child of the caller's (W3C traceparent) if any."""
    return tracer.start_as_current_span(
        method.name,
        context=propagate.extract(metadata),
        kind=SpanKind.SERVER,
        attributes=method.attributes,
        record_exception=False,
        set_status_on_exception=False,
    )


_SHUTDOWN = "stockmesh: server shutting down"


def _shutting_down() -> errors.Unavailable:
    return errors.Unavailable(
        "the server is shutting down; reconnect and resume from the last position received",
        reason="SERVER_SHUTTING_DOWN",
    )


def _outcome(ctx: Context, exc: Exception, method: str) -> tuple[grpc.StatusCode, grpc.Status | None]:
    """The status `exc` is sent as; None when the call was already aborted."""
    if isinstance(exc, aio.AbortError):
        code = ctx.code()
        return (code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN), None
    if isinstance(exc, errors.ServiceError):
        sent = status.to_status(exc)
    else:
        log.error("unhandled exception in %s", method, exc_info=exc)
        sent = status.internal_status()
    return sent.code, sent
