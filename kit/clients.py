"""Channels to the other services: mTLS with this workload's identity locally
(plaintext to the Istio sidecar in the cluster), traced, with the request id
and the user's token carried along, under the mesh's client policy for the
called service (`kit.mesh.client`: the VirtualService's deadline and
retries, the DestinationRule's circuit breaking). A service's channels raise
a neighbour's status as a kit error, by the one rule of `kit.neighbours`;
the gateway's relay channels hand it on untouched.

The client span is started here rather than by opentelemetry-instrumentation-
grpc's aio interceptor: that one awaits the call's status inside the
interceptor, so cancelling the call (a client of the gateway going away)
never reached the server. Here the call is handed back at once and the span
ends when the call does, so `call.cancel()` cancels the RPC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import grpc
from grpc import aio
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from kit import auth, context, neighbours, status, tls
from kit.mesh import files, traffic
from kit.mesh.client import Traffic
from kit.settings import TlsMode, service_account


class ChannelSettings(Protocol):
    """What opening channels needs: a service's Settings, or the gateway's."""

    @property
    def account(self) -> str: ...
    @property
    def spiffe_id(self) -> str: ...
    @property
    def tls_mode(self) -> TlsMode: ...
    @property
    def tls_dir(self) -> Path: ...
    @property
    def namespace(self) -> str: ...
    @property
    def mesh_dir(self) -> Path: ...
    def peer(self, service: str) -> str: ...


tracer = trace.get_tracer("kit.clients")


def _outgoing_metadata(metadata: Any, span: trace.Span) -> aio.Metadata:
    out = aio.Metadata(*(tuple(metadata) if metadata else ()))
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    for key, value in carrier.items():
        out.add(key, value)
    keys = {key for key, _ in out}
    request_id = context.request_id.get()
    if request_id and "x-request-id" not in keys:
        out.add("x-request-id", request_id)
    canary = context.canary.get()
    if canary and context.CANARY_HEADER not in keys:
        out.add(context.CANARY_HEADER, canary)
    tenant = context.system_tenant.get()
    if tenant:
        out.add(auth.TENANT_HEADER, tenant)
        return out
    token = auth.current.get().token
    if token and "authorization" not in keys:
        out.add("authorization", f"Bearer {token}")
    return out


class _Propagate:
    """Starts the client span and adds the trace context, the request id and
    the caller's token (one class per interceptor kind below: a channel files
    an interceptor under one kind only)."""

    def _details(self, details: aio.ClientCallDetails, span: trace.Span) -> aio.ClientCallDetails:
        return aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout,
            metadata=_outgoing_metadata(details.metadata, span),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )

    async def _call(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else str(details.method)
        service, _, short = method[1:].rpartition("/")
        span = tracer.start_span(
            method,
            kind=SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": short},
        )
        try:
            call = await continuation(self._details(details, span), request)
        except BaseException:
            span.end()
            raise
        _finish_when_done(call, span)
        return call


class _PropagateUnary(_Propagate, neighbours.UnaryInterceptor):
    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self._call(continuation, details, request)


class _PropagateStream(_Propagate, neighbours.StreamInterceptor):
    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self._call(continuation, details, request)


def _finish_when_done(call: Any, span: trace.Span) -> None:
    """End the span with the call's status once the call ends, however it ends."""

    async def finish() -> None:
        try:
            code = await call.code()
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in status.SERVER_FAULTS:
            span.set_status(Status(StatusCode.ERROR, code.name))
        span.end()

    task = asyncio.ensure_future(finish())
    _pending.add(task)
    task.add_done_callback(_pending.discard)


_pending: set[asyncio.Future[None]] = set()  # the loop keeps only weak references to tasks


class Channels:
    """One channel per peer service, opened on first use and shared.

    `get` is a service's channel to a neighbour: its calls raise kit errors
    (`kit.neighbours`). `relay` is the gateway's: a proxy hands the
    neighbour's status and details on as they came.
    """

    def __init__(self, settings: ChannelSettings, *, options: Sequence[tuple[str, Any]] = ()) -> None:
        self.settings = settings
        self.extra_options = list(options)
        self._channels: dict[tuple[str, bool], aio.Channel] = {}
        self._mesh: list[files.Resource] | None = None
        self.traffic: dict[str, Traffic] = {}

    def get(self, service: str) -> aio.Channel:
        return self._channel(service, relay=False)

    def relay(self, service: str) -> aio.Channel:
        return self._channel(service, relay=True)

    def _channel(self, service: str, *, relay: bool) -> aio.Channel:
        key = (service, relay)
        if key not in self._channels:
            self._channels[key] = self._open(service, relay=relay)
        return self._channels[key]

    def traffic_to(self, service: str) -> Traffic:
        """The mesh's client policy for `service`, with its circuit state
        (one per called service, shared by its channels)."""
        if service not in self.traffic:
            if self._mesh is None:
                self._mesh = files.read(self.settings.mesh_dir)
            host = traffic.host_of(service_account(service), self.settings.namespace)
            local = self.settings.tls_mode == "mtls"  # in the cluster the sidecar retries and breaks circuits
            self.traffic[service] = Traffic(
                service, traffic.client_policy(self._mesh, host), retries=local, breaking=local
            )
        return self.traffic[service]

    def _open(self, service: str, *, relay: bool) -> aio.Channel:
        settings = self.settings
        # Outermost the error rule, so it sees the last try's status; each
        # try is its own traced call.
        interceptors: list[Any] = [] if relay else neighbours.interceptors(service)
        mesh = self.traffic_to(service).interceptors()
        interceptors += [*mesh, _PropagateUnary(), _PropagateStream()]
        options: list[tuple[str, Any]] = [
            # One retry layer: the mesh's policy (kit.mesh.client). gRPC's own
            # has no retry policy here, so it only replays a call that never
            # left this process (a transparent retry, as Envoy's
            # refused-stream). Turned off, it also changed when a refused
            # stream's status arrives: after its headers, so the gateway took
            # such a stream for an open one (gateway.streams.open_stream).
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30_000),
            # A neighbour back from an outage is reached within seconds, not
            # after gRPC's default backoff of up to two minutes between
            # connection attempts (the circuit breaker, not the channel,
            # decides when to stop trying).
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 5_000),
            *self.extra_options,
        ]
        target = settings.peer(service)
        if settings.tls_mode == "mesh":
            channel = aio.insecure_channel(target, options=options, interceptors=interceptors)
        else:
            identity = tls.ensure_identity(settings.tls_dir, settings.account, settings.spiffe_id)
            # Certificates name the service account, not the loopback address.
            options.append(("grpc.ssl_target_name_override", service_account(service)))
            channel = aio.secure_channel(
                target, tls.channel_credentials(identity), options=options, interceptors=interceptors
            )
        for interceptor in mesh:
            interceptor.bind(channel)
        return channel

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()
