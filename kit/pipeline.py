"""The server side of every call, in one interceptor: request id, who is
calling, the RPC's access rule, error mapping, metrics and the log line.

One interceptor rather than a stack of them because the steps share state
(the start time, the final status code) and their order is fixed: identify,
admit, run, map the outcome, record it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeAlias

import grpc
from grpc import aio

from kit import auth, context, errors, metrics, status, tls
from kit.rpc import Context

log = logging.getLogger("kit.rpc")

# Infrastructure services: the kubelet, the mesh and grpcurl must reach them
# without a user token. Workload identity (mTLS) still applies.
INFRASTRUCTURE = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

Behavior = Callable[..., Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class CallPipeline(aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(
        self,
        rules: Mapping[str, auth.Rule],
        verifier: auth.TokenVerifier,
        *,
        identity_from: str = "mtls",
    ) -> None:
        self.rules = rules
        self.verifier = verifier
        self.identity_from = identity_from
        # The wrapped handler of each method, built on its first call: the
        # registered handlers never change while the server runs.
        self._wrapped: dict[str, Handler] = {}

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
        if method.startswith(INFRASTRUCTURE):
            rule = auth.PUBLIC
        else:
            found = self.rules.get(method)
            if found is None:
                raise RuntimeError(f"no access rule for {method}")  # bootstrap checks prevent this
            rule = found
        service, _, name = method[1:].rpartition("/")
        labels = {"grpc_service": service, "grpc_method": name}
        quiet = method.startswith(INFRASTRUCTURE)
        kw = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            call = functools.partial(
                self._unary, handler.unary_unary, method, rule, labels | {"grpc_type": "UNARY"}, quiet
            )
            return grpc.unary_unary_rpc_method_handler(call, **kw)
        if handler.unary_stream:
            stream = functools.partial(
                self._stream,
                handler.unary_stream,
                method,
                rule,
                labels | {"grpc_type": "SERVER_STREAM"},
                quiet,
            )
            return grpc.unary_stream_rpc_method_handler(stream, **kw)
        if handler.stream_unary:
            call = functools.partial(
                self._unary,
                handler.stream_unary,
                method,
                rule,
                labels | {"grpc_type": "CLIENT_STREAM"},
                quiet,
            )
            return grpc.stream_unary_rpc_method_handler(call, **kw)
        assert handler.stream_stream is not None
        stream = functools.partial(
            self._stream, handler.stream_stream, method, rule, labels | {"grpc_type": "BIDI_STREAM"}, quiet
        )
        return grpc.stream_stream_rpc_method_handler(stream, **kw)

    async def _unary(
        self,
        inner: Behavior,
        method: str,
        rule: auth.Rule,
        labels: dict[str, str],
        quiet: bool,
        request: Any,
        ctx: Context,
    ) -> Any:
        started = self._begin(ctx, labels)
        code = grpc.StatusCode.OK
        try:
            await self._admit(ctx, method, rule)
            return await inner(request, ctx)
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as exc:
            code, sent = _outcome(ctx, exc, method)
            if sent is None:
                raise
            await ctx.abort(sent.code, sent.details, sent.trailing_metadata)
        finally:
            self._end(ctx, method, labels, started, code, quiet)

    async def _stream(
        self,
        inner: Behavior,
        method: str,
        rule: auth.Rule,
        labels: dict[str, str],
        quiet: bool,
        request: Any,
        ctx: Context,
    ) -> AsyncIterator[Any]:
        started = self._begin(ctx, labels)
        code = grpc.StatusCode.OK
        try:
            await self._admit(ctx, method, rule)
            async for message in inner(request, ctx):
                metrics.msg_sent.labels(**labels).inc()
                yield message
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as exc:
            code, sent = _outcome(ctx, exc, method)
            if sent is None:
                raise
            await ctx.abort(sent.code, sent.details, sent.trailing_metadata)
        finally:
            self._end(ctx, method, labels, started, code, quiet)

    def _begin(self, ctx: Context, labels: dict[str, str]) -> float:
        metadata = dict(ctx.invocation_metadata() or ())
        incoming = metadata.get("x-request-id")
        context.request_id.set(incoming if isinstance(incoming, str) and incoming else uuid.uuid4().hex)
        metrics.started.labels(**labels).inc()
        return time.perf_counter()

    async def _admit(self, ctx: Context, method: str, rule: auth.Rule) -> None:
        metadata = dict(ctx.invocation_metadata() or ())
        peer = self._peer(ctx, metadata)
        auth.current.set(auth.Caller(None, peer, None))
        token = auth.bearer(metadata) if not rule.public else None
        if token:
            principal: auth.Principal | None = await self.verifier.verify(token)
        elif rule.services and auth.account_of(peer) in rule.services:
            principal = auth.service_principal(auth.account_of(peer), metadata)
        else:
            principal = None
        rule.admit(principal, method)
        auth.current.set(auth.Caller(principal, peer, token))
        if principal is not None and principal.service:
            # System work stays system work downstream, in the same tenant.
            context.system_tenant.set(principal.tenant_id)

    def _peer(self, ctx: Context, metadata: Mapping[str, Any]) -> str | None:
        if self.identity_from == "mesh":
            # Behind the Istio sidecar: it terminated mTLS and says who called.
            return _xfcc_uri(metadata.get("x-forwarded-client-cert"))
        pem = list(ctx.auth_context().get("x509_pem_cert", ()))
        return _spiffe_of(pem[0]) if pem else None

    def _end(
        self,
        ctx: Context,
        method: str,
        labels: dict[str, str],
        started: float,
        code: grpc.StatusCode,
        quiet: bool,
    ) -> None:
        elapsed = time.perf_counter() - started
        metrics.handled.labels(**labels, grpc_code=code.name).inc()
        metrics.handling_seconds.labels(**labels).observe(elapsed)
        caller = auth.current.get()
        who = caller.principal
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "rpc",
            extra={
                "method": method,
                "code": code.name,
                "duration_ms": round(elapsed * 1000, 3),
                "peer": caller.peer,
                "tenant_id": who.tenant_id if who else None,
                "user_id": who.user_id if who else None,
            },
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


def _xfcc_uri(header: object) -> str | None:
    if not isinstance(header, str):
        return None
    # Several elements (one per proxy hop) are comma-separated; the last is ours.
    for pair in reversed(header.split(",")[-1].split(";")):
        key, _, value = pair.partition("=")
        if key.strip().lower() == "uri":
            return value.strip().strip('"') or None
    return None


@functools.lru_cache(maxsize=256)
def _spiffe_of(pem: bytes) -> str | None:
    ids = tls.peer_spiffe_ids(pem)
    return ids[0] if ids else None
