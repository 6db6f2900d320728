"""The client side of the mesh's traffic policy, for one called service:
the VirtualService route's timeout (the deadline of a call whose caller set
none) and retries with per-try timeouts, and the DestinationRule's circuit
breaking (`kit.mesh.breaker`).

Exactly one retry layer acts. Locally (mTLS between the processes) this is
it; in the cluster (`STOCKMESH_TLS_MODE=mesh`) the sidecar retries and
breaks circuits, so here only the deadline is applied. No channel has a
gRPC retry policy (`kit.clients`): gRPC replays only a call that never left
the process.

A retried call is safe because every mutation carries a request_id: a try
that took effect although its answer was lost is answered, on the next try,
from its first outcome. Only unary calls are retried; a stream gets the
deadline and the circuit check, since its messages may already have been
handed on.

Retry conditions as a gRPC client sees Envoy's: a connection refused, reset
or dropped and an UNAVAILABLE status all arrive as UNAVAILABLE (so any of
connect-failure, refused-stream, reset and unavailable retries it); a try
that outlives its per-try timeout is a reset, as in Envoy; the others name a
grpc-status. Between tries: Envoy's fully jittered backoff from 25 ms,
capped at 250 ms.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from grpc import aio

from kit import errors, neighbours, status
from kit.mesh.breaker import Breaker
from kit.mesh.traffic import ClientPolicy, Retries

BACKOFF_BASE = 0.025
BACKOFF_MAX = 0.25

_TRANSPORT = frozenset({"connect-failure", "refused-stream", "reset", "unavailable"})
_BY_STATUS = {
    grpc.StatusCode.CANCELLED: "cancelled",
    grpc.StatusCode.DEADLINE_EXCEEDED: "deadline-exceeded",
    grpc.StatusCode.INTERNAL: "internal",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "resource-exhausted",
}


class Traffic:
    """The policy and circuit state of calls from this process to one service."""

    def __init__(
        self,
        service: str,
        policy: ClientPolicy,
        *,
        retries: bool,
        breaking: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.policy = policy
        self.retries = retries
        self.clock = clock
        self.breaker = (
            Breaker(
                policy.outlier, max_requests=policy.max_requests, max_retries=policy.max_retries, clock=clock
            )
            if breaking
            else None
        )

    def interceptors(self) -> list[Any]:
        """A fresh pair for one channel: `bind` each to it once it exists."""
        return [_Unary(self), _Stream(self)]

    def refuse_if_open(self) -> None:
        refusal = self.breaker.refusal() if self.breaker is not None else None
        if refusal is not None:
            raise refused(self.service, refusal)


def refused(service: str, why: str) -> aio.AioRpcError:
    """A call failed on the client, shaped as the service's own UNAVAILABLE."""
    sent = status.to_status(
        errors.Unavailable(
            f"svc_{service}: {why}", reason="CIRCUIT_OPEN", metadata={"service": f"svc_{service}"}
        )
    )
    return aio.AioRpcError(
        sent.code, aio.Metadata(), aio.Metadata(*sent.trailing_metadata), sent.details, None
    )


def retryable(code: grpc.StatusCode, retries: Retries, *, per_try_expired: bool) -> bool:
    if code == grpc.StatusCode.UNAVAILABLE:
        return bool(retries.retry_on & _TRANSPORT)
    if per_try_expired:
        return "reset" in retries.retry_on
    condition = _BY_STATUS.get(code)
    return condition is not None and condition in retries.retry_on


def _path(details: aio.ClientCallDetails) -> str:
    method = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


def _headers(metadata: Any) -> Mapping[str, str]:
    return {str(k).lower(): v for k, v in (metadata or ()) if isinstance(v, str)}


def _with_timeout(details: aio.ClientCallDetails, timeout: float | None) -> aio.ClientCallDetails:
    return aio.ClientCallDetails(
        method=details.method,
        timeout=timeout,
        metadata=details.metadata,
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


class _Unary(neighbours.UnaryInterceptor):
    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.channel: aio.Channel | None = None  # set by bind(), once the channel exists

    def bind(self, channel: aio.Channel) -> None:
        self.channel = channel

    async def _reconnected(self, deadline: float | None) -> None:
        """Before a retry, give the channel the DestinationRule's connect
        timeout to reconnect, as Envoy's retry opens a new connection: a
        channel backing off after a failed connection would otherwise fail
        the try at once, and one to a service that is down still fails it
        within that time."""
        channel, clock = self.channel, self.traffic.clock
        if channel is None:
            return
        end = clock() + self.traffic.policy.connect_timeout
        if deadline is not None:
            end = min(end, deadline)
        state = channel.get_state(try_to_connect=True)
        while state != grpc.ChannelConnectivity.READY and (left := end - clock()) > 0:
            try:
                await asyncio.wait_for(channel.wait_for_state_change(state), left)
            except TimeoutError:
                return
            state = channel.get_state(try_to_connect=True)

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        traffic = self.traffic
        breaker = traffic.breaker
        route = traffic.policy.route(_path(details), _headers(details.metadata))
        budget = details.timeout if details.timeout is not None else route.timeout
        deadline = None if budget is None else traffic.clock() + budget
        retries = route.retries if traffic.retries else None
        tries = 0
        while True:
            if tries == 0:
                traffic.refuse_if_open()
            if breaker is not None:
                breaker.active += 1
                breaker.retrying += tries > 0
            remaining = None if deadline is None else max(deadline - traffic.clock(), 0.0)
            per_try = retries.per_try_timeout if retries is not None else None
            capped = per_try is not None and (remaining is None or per_try < remaining)
            timeout = per_try if capped else remaining
            try:
                call = await continuation(_with_timeout(details, timeout), request)
                try:
                    code = await call.code()
                except asyncio.CancelledError:
                    call.cancel()
                    raise
            finally:
                if breaker is not None:
                    breaker.active -= 1
                    breaker.retrying -= tries > 0
            if breaker is not None:
                breaker.record(code)
            tries += 1
            if (
                code == grpc.StatusCode.OK
                or retries is None
                or tries > retries.attempts
                or not retryable(
                    code, retries, per_try_expired=capped and code == grpc.StatusCode.DEADLINE_EXCEEDED
                )
                or (deadline is not None and traffic.clock() >= deadline)
                # An open circuit or a full pool: the last try's answer stands.
                or (breaker is not None and (not breaker.may_retry() or breaker.refusal() is not None))
            ):
                return call
            await asyncio.sleep(
                random.uniform(  # noqa: S311 - jitter, not a secret
                    0, min(BACKOFF_BASE * 2 ** (tries - 1), BACKOFF_MAX)
                )
            )
            await self._reconnected(deadline)


class _Stream(neighbours.StreamInterceptor):
    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic

    def bind(self, channel: aio.Channel) -> None:
        """Streams are not retried: the channel's state is not needed."""

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        self.traffic.refuse_if_open()
        if details.timeout is None:
            route = self.traffic.policy.route(_path(details), _headers(details.metadata))
            details = _with_timeout(details, route.timeout)
        return await continuation(details, request)
