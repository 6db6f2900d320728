"""One rule for what a service tells its caller when a neighbour refuses or fails.

Every channel a service opens to another service (`kit.clients.Channels.get`)
carries the `interceptors` below, so a client awaiting `stub.Method(...)` (or
reading a response stream) gets a `kit.errors.ServiceError`, never a
`grpc.RpcError`:

- the neighbour could not be reached or failed itself (UNAVAILABLE,
  DEADLINE_EXCEEDED and the other server faults of `kit.status.SERVER_FAULTS`)
  → `errors.Unavailable` with reason `<SERVICE>_UNAVAILABLE` (e.g.
  CATALOG_UNAVAILABLE), the neighbour's own words in the message: the call
  may be retried with the same request_id (a change that did happen is
  answered from its first outcome);
- any other status (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED,
  FAILED_PRECONDITION, ABORTED, RESOURCE_EXHAUSTED, UNAUTHENTICATED, ...) → the
  same code, with the neighbour's message, reason and details
  (`kit.status.error_of`): a neighbour's refusal is the caller's refusal, never
  reported as UNAVAILABLE.

UNAVAILABLE is retried by the mesh's client policy (`kit.mesh.client`)
before it reaches the rule. A client decides on top of the rule only where its contract says so
(e.g. "no such warehouse" read as an answer, not an error).

grpc.aio runs a channel's interceptors inside the call's own task, and
`await call` awaits that task first: an exception raised in
`intercept_unary_unary` is what the caller's `await stub.Method(...)` raises.
For a response stream the interceptor returns an async iterator over the
call, and what it raises while iterating reaches the caller's `async for`.
The interceptor awaits the call it wraps, so cancelling the caller's await
cancels the RPC (the wrapped call's own task is cancelled with it).

A grpc.aio channel files each interceptor under the first of the four
interceptor kinds it is an instance of (unary-unary before unary-stream), so
one object deriving from both would never see a stream: hence one class per
kind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from kit import errors, status


def error_from(service: str, error: grpc.RpcError) -> errors.ServiceError:
    """What a caller of `service` raises when `service` answered `error`."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    if code in status.SERVER_FAULTS:
        said = error.details() if hasattr(error, "details") else None
        return errors.Unavailable(
            f"svc_{service} could not be reached or failed ({code.name}: {said or 'no details'}); "
            "retry with the same request_id",
            reason=f"{service.upper()}_UNAVAILABLE",
            metadata={"service": f"svc_{service}", "code": code.name},
        )
    return status.error_of(error)


def interceptors(service: str) -> list[Any]:
    """The rule, for every unary call and response stream on a channel to `service`."""
    return [_Unary(service), _Stream(service)]


if TYPE_CHECKING:
    UnaryInterceptor = aio.UnaryUnaryClientInterceptor[Any, Any]
    StreamInterceptor = aio.UnaryStreamClientInterceptor[Any, Any]
else:  # the runtime classes are not generic
    UnaryInterceptor = aio.UnaryUnaryClientInterceptor
    StreamInterceptor = aio.UnaryStreamClientInterceptor


class _Unary(UnaryInterceptor):
    def __init__(self, service: str) -> None:
        self.service = service

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        try:
            # An inner interceptor may refuse before any call exists (an open circuit).
            call = await continuation(details, request)
            return await call
        except grpc.RpcError as exc:
            raise error_from(self.service, exc) from exc


class _Stream(StreamInterceptor):
    def __init__(self, service: str) -> None:
        self.service = service

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: aio.ClientCallDetails, request: Any
    ) -> Any:
        try:
            call = await continuation(details, request)
        except grpc.RpcError as exc:
            raise error_from(self.service, exc) from exc

        async def responses() -> AsyncIterator[Any]:
            try:
                async for response in call:
                    yield response
            except grpc.RpcError as exc:
                raise error_from(self.service, exc) from exc

        return responses()
