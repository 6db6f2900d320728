"""The one rule for a neighbour's errors (kit.neighbours), proven through the
channels kit.clients opens, against a real gRPC server on 127.0.0.1: a
neighbour that cannot answer is the caller's <SERVICE>_UNAVAILABLE, any
other status reaches the caller as the same code with the same details."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from grpc_status import rpc_status

from kit import errors, status
from kit.clients import Channels
from tests.harness import free_port
from tests.support.loopback import Loopback, serving

SERVICE = "stockmesh.test.v1.Neighbour"
ANSWER = f"/{SERVICE}/Answer"
STREAM = f"/{SERVICE}/Stream"
WAIT = f"/{SERVICE}/Wait"

# A neighbour's refusal of each code that is the caller's fault or the state's,
# with the details kit sends.
REFUSALS: list[errors.ServiceError] = [
    errors.InvalidArgument(
        [errors.FieldViolation("lines[1].sku", "no variant with SKU 'X' in the catalog")],
        reason="UNKNOWN_SKU",
    ),
    errors.NotFound("warehouse", "warehouses/w1"),
    errors.AlreadyExists("supplier", "acme"),
    errors.FailedPrecondition(
        "not enough stock",
        [errors.PreconditionViolation("INSUFFICIENT_STOCK", "warehouses/w1/stockLevels/A", "requested 5")],
        reason="INSUFFICIENT_STOCK",
        metadata={"warehouse": "w1"},
    ),
    errors.Aborted("changed since it was read", reason="ETAG_MISMATCH", metadata={"name": "orders/1"}),
    errors.Unauthenticated("the token expired", reason="TOKEN_EXPIRED"),
    errors.PermissionDenied(
        "needs one of the roles: admin, manager", reason="ROLE_REQUIRED", metadata={"required_roles": "admin"}
    ),
    errors.ResourceExhausted("slow down", retry_after_seconds=2.5, reason="RATE_LIMITED"),
    errors.OutOfRange("past the last page", reason="PAST_THE_END"),
    errors.Cancelled("the neighbour gave up", reason="GAVE_UP"),
]
NOT_FAULTS = {status.code_of(refusal) for refusal in REFUSALS}
PASSED_ON = sorted(NOT_FAULTS, key=lambda code: code.name)
FAULTS = sorted(status.SERVER_FAULTS, key=lambda code: code.name)


@dataclass
class Neighbour:
    """Answers every call with `answer` (a status to abort with), or OK."""

    answer: grpc.Status | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    async def reply(self, request: bytes, context: aio.ServicerContext[bytes, bytes]) -> bytes:
        if self.answer is not None:
            await context.abort(self.answer.code, self.answer.details, self.answer.trailing_metadata)
        return b"ok:" + request

    async def stream(
        self, request: bytes, context: aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        yield b"first"
        if self.answer is not None:
            await context.abort(self.answer.code, self.answer.details, self.answer.trailing_metadata)
        yield b"second"

    async def wait(self, request: bytes, context: aio.ServicerContext[bytes, bytes]) -> bytes:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return b"late"


def raw(code: grpc.StatusCode, message: str) -> grpc.Status:
    """A status as a neighbour that is not kit would send it, with a reason."""
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason="NEIGHBOURS_OWN", domain="elsewhere"))
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=[info]))


@pytest.fixture
async def neighbour() -> AsyncIterator[tuple[Neighbour, Channels]]:
    served = Neighbour()

    def register(server: aio.Server) -> None:
        handlers = {
            "Answer": grpc.unary_unary_rpc_method_handler(served.reply),
            "Stream": grpc.unary_stream_rpc_method_handler(served.stream),
            "Wait": grpc.unary_unary_rpc_method_handler(served.wait),
        }
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])

    async with serving(register) as channels:
        yield served, channels


async def call(channels: Channels, method: str = ANSWER, timeout: float | None = None) -> bytes:
    answer: bytes = await channels.get("catalog").unary_unary(method, None, None)(b"hello", timeout=timeout)
    return answer


async def test_an_answer_passes_through_untouched(neighbour: tuple[Neighbour, Channels]) -> None:
    _, channels = neighbour

    assert await call(channels) == b"ok:hello"


@pytest.mark.parametrize("refusal", REFUSALS, ids=[status.code_of(r).name for r in REFUSALS])
async def test_a_neighbours_refusal_is_the_callers_with_the_same_code_and_details(
    neighbour: tuple[Neighbour, Channels], refusal: errors.ServiceError
) -> None:
    served, channels = neighbour
    served.answer = status.to_status(refusal)

    with pytest.raises(errors.ServiceError) as caught:
        await call(channels)

    assert type(caught.value) is type(refusal)
    assert status.to_status(caught.value) == status.to_status(refusal)


@pytest.mark.parametrize("code", FAULTS, ids=[c.name for c in FAULTS])
async def test_a_neighbour_that_fails_is_the_callers_unavailable_naming_the_neighbour(
    neighbour: tuple[Neighbour, Channels], code: grpc.StatusCode
) -> None:
    served, channels = neighbour
    served.answer = raw(code, "database on fire")

    with pytest.raises(errors.Unavailable) as caught:
        await call(channels)

    assert caught.value.reason == "CATALOG_UNAVAILABLE"
    assert "retry with the same request_id" in caught.value.message
    assert caught.value.metadata == {"service": "svc_catalog", "code": code.name}


@pytest.mark.parametrize("code", PASSED_ON, ids=[c.name for c in PASSED_ON])
async def test_a_status_from_a_neighbour_outside_kit_keeps_its_code_message_and_reason(
    neighbour: tuple[Neighbour, Channels], code: grpc.StatusCode
) -> None:
    served, channels = neighbour
    served.answer = raw(code, "said the neighbour")

    with pytest.raises(errors.ServiceError) as caught:
        await call(channels)

    got = caught.value
    assert (status.code_of(got), got.message, got.reason) == (code, "said the neighbour", "NEIGHBOURS_OWN")


def test_every_status_code_but_ok_is_either_a_fault_or_passed_on() -> None:
    assert set(grpc.StatusCode) - {grpc.StatusCode.OK} == NOT_FAULTS | status.SERVER_FAULTS
    assert not NOT_FAULTS & status.SERVER_FAULTS


async def test_a_neighbour_that_cannot_be_reached_is_unavailable() -> None:
    channels = Channels(Loopback(free_port()))
    try:
        with pytest.raises(errors.Unavailable) as caught:
            await call(channels)
    finally:
        await channels.close()

    assert (caught.value.reason, caught.value.metadata["code"]) == ("CATALOG_UNAVAILABLE", "UNAVAILABLE")


async def test_a_neighbour_too_slow_for_the_deadline_is_unavailable(
    neighbour: tuple[Neighbour, Channels],
) -> None:
    _, channels = neighbour

    with pytest.raises(errors.Unavailable) as caught:
        await call(channels, WAIT, timeout=0.2)

    assert (caught.value.reason, caught.value.metadata["code"]) == (
        "CATALOG_UNAVAILABLE",
        "DEADLINE_EXCEEDED",
    )


async def test_a_refusal_in_the_middle_of_a_stream_reaches_the_callers_loop(
    neighbour: tuple[Neighbour, Channels],
) -> None:
    served, channels = neighbour
    served.answer = status.to_status(errors.PermissionDenied("not yours", reason="ROLE_REQUIRED"))
    received: list[bytes] = []

    async def watch() -> None:
        async for message in channels.get("stock").unary_stream(STREAM, None, None)(b"watch"):
            received.append(message)

    with pytest.raises(errors.PermissionDenied) as caught:
        await watch()

    assert received == [b"first"]
    assert caught.value.reason == "ROLE_REQUIRED"


async def test_cancelling_the_callers_await_cancels_the_neighbours_call(
    neighbour: tuple[Neighbour, Channels],
) -> None:
    served, channels = neighbour
    waiting = asyncio.ensure_future(call(channels, WAIT))
    await asyncio.sleep(0.2)

    waiting.cancel()

    await asyncio.wait_for(served.cancelled.wait(), timeout=5)
    assert waiting.cancelled()


async def test_a_relay_channel_hands_the_neighbours_status_on_as_it_came(
    neighbour: tuple[Neighbour, Channels],
) -> None:
    served, channels = neighbour
    served.answer = raw(grpc.StatusCode.INTERNAL, "database on fire")

    with pytest.raises(aio.AioRpcError) as caught:
        await channels.relay("catalog").unary_unary(ANSWER, None, None)(b"hello")

    assert (caught.value.code(), caught.value.details()) == (grpc.StatusCode.INTERNAL, "database on fire")
