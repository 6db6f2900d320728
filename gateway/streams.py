"""Server streams over HTTP: server-sent events for `Accept: text/event-stream`,
newline-delimited JSON otherwise.

The response starts only once the service has accepted the stream (its
initial metadata arrived), so a stream refused before its first message (a
bad cursor, an unknown warehouse, a missing token) gets a real HTTP status
and the JSON error body, not a 200 that fails mid-stream. Each event's `id`
is the message's `cursor`, so a browser that reconnects sends it back as
`Last-Event-ID` and resumes exactly after the last event it saw. Messages
whose `type` is a `..._HEARTBEAT` value are sent as SSE comments: they keep
proxies from closing an idle stream without moving the browser's cursor
past anything it has not seen.

At shutdown every open stream ends at once with an UNAVAILABLE error event
(`SERVER_SHUTTING_DOWN`), the signal to reconnect (to another replica) and
resume, instead of holding the shutdown for the whole grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.message import Message
from google.rpc import code_pb2
from grpc import aio
from starlette.responses import Response, StreamingResponse

from gateway import errors, observe, transcode

EVENT_STREAM = "text/event-stream"
NDJSON = "application/x-ndjson"
SHUTTING_DOWN = errors.status(
    code_pb2.UNAVAILABLE,
    "the gateway is shutting down; reconnect and resume from the last event id received",
    "SERVER_SHUTTING_DOWN",
)


class OpenStreams:
    """The streams being relayed now, so shutdown can end them."""

    def __init__(self) -> None:
        self.calls: set[aio.UnaryStreamCall[Any, Any]] = set()
        self.closing = False

    def end_all(self) -> int:
        """End every open stream with SHUTTING_DOWN; returns how many."""
        self.closing = True
        for call in self.calls:
            call.cancel()
        return len(self.calls)

    def ended_by_shutdown(self, call: aio.UnaryStreamCall[Any, Any]) -> bool:
        task = asyncio.current_task()
        return self.closing and call.cancelled() and not (task and task.cancelling())


def wants_events(accept: str | None) -> bool:
    return bool(accept) and EVENT_STREAM in (accept or "")


def resume_from(message: Message, last_event_id: str | None) -> None:
    """A reconnecting browser's `Last-Event-ID` becomes the request's cursor
    (unless the query already set one)."""
    if last_event_id and "cursor" in message.DESCRIPTOR.fields_by_name and not message.cursor:  # type: ignore[attr-defined]
        message.cursor = last_event_id.strip()  # type: ignore[attr-defined]


async def open_stream(call: aio.UnaryStreamCall[Any, Any]) -> errors.EdgeError | None:
    """Wait until the service accepts the stream or refuses it; a refusal is
    returned as the error to answer with."""
    await call.initial_metadata()
    if not call.done():
        return None
    code = await call.code()
    if code == grpc.StatusCode.OK:
        return None
    failure = aio.AioRpcError(
        code,
        await call.initial_metadata(),
        await call.trailing_metadata(),
        details=await call.details(),
        debug_error_string="",
    )
    return errors.refused_by_service(failure)


def response(
    call: aio.UnaryStreamCall[Any, Any],
    *,
    events: bool,
    route: str,
    headers: dict[str, str],
    open_streams: OpenStreams,
) -> Response:
    media = EVENT_STREAM if events else NDJSON
    body = _events(call, route, open_streams) if events else _lines(call, route, open_streams)
    # No buffering by proxies (nginx honours X-Accel-Buffering) and no caching.
    headers = {**headers, "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type=media, headers=headers)


async def _events(
    call: aio.UnaryStreamCall[Any, Any], route: str, open_streams: OpenStreams
) -> AsyncIterator[bytes]:
    async with _open(call, route, open_streams):
        # A first comment flushes the headers and tells the client the stream is live.
        yield b": stream open\n\n"
        try:
            async for message in call:
                data = transcode.as_dict(message)
                if _heartbeat(data):
                    yield b": heartbeat\n\n"
                    continue
                cursor = data.get("cursor")
                head = f"id: {cursor}\n".encode() if isinstance(cursor, str) and cursor else b""
                yield head + b"data: " + transcode.encode(data) + b"\n\n"
        except grpc.RpcError as exc:
            _, sent = errors.of_rpc_error(exc)
            yield b"event: error\ndata: " + errors.body(sent) + b"\n\n"
        except asyncio.CancelledError:
            if not open_streams.ended_by_shutdown(call):
                raise
            yield b"event: error\ndata: " + errors.body(SHUTTING_DOWN) + b"\n\n"


async def _lines(
    call: aio.UnaryStreamCall[Any, Any], route: str, open_streams: OpenStreams
) -> AsyncIterator[bytes]:
    async with _open(call, route, open_streams):
        try:
            async for message in call:
                # Bare messages, one a line, as Envoy's stream_newline_delimited prints them.
                yield transcode.encode(transcode.as_dict(message)) + b"\n"
        except grpc.RpcError as exc:
            _, sent = errors.of_rpc_error(exc)
            yield b'{"error":' + errors.body(sent) + b"}\n"
        except asyncio.CancelledError:
            if not open_streams.ended_by_shutdown(call):
                raise
            yield b'{"error":' + errors.body(SHUTTING_DOWN) + b"}\n"


@contextlib.asynccontextmanager
async def _open(
    call: aio.UnaryStreamCall[Any, Any], route: str, open_streams: OpenStreams
) -> AsyncIterator[None]:
    gauge = observe.open_streams.labels(route)
    gauge.inc()
    open_streams.calls.add(call)
    try:
        yield
    finally:
        open_streams.calls.discard(call)
        gauge.dec()
        # The client went away (the response task is cancelled) or the stream
        # ended: either way the gRPC stream must not outlive the HTTP one.
        call.cancel()


def _heartbeat(data: dict[str, Any]) -> bool:
    kind = data.get("type")
    return isinstance(kind, str) and kind.endswith("_HEARTBEAT")
