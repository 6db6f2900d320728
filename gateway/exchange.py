"""What the edge reads from an HTTP exchange, and how it watches it: the raw
path, a sane request id, the body within its limit, and whether the client
is still there while its call runs."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from google.rpc import code_pb2
from starlette.requests import Request

from gateway import errors

_SAFE_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


async def unless_disconnected(request: Request, call: Any) -> Any:
    """The call's reply; if the client disconnects first, the call is cancelled
    (the service sees CANCELLED) and nothing is answered."""
    waiter = asyncio.ensure_future(call)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            return waiter.result()
        call.cancel()
        raise errors.EdgeError(499, code_pb2.CANCELLED, "the client closed the request", "CLIENT_CLOSED")
    finally:
        gone.cancel()


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> errors.EdgeError:
    return errors.EdgeError(
        413, code_pb2.RESOURCE_EXHAUSTED, f"the body is over the limit of {limit} bytes", "BODY_TOO_LARGE"
    )


def raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1").split("?", 1)[0]
    return str(request.scope["path"])


def request_id(given: str | None) -> str:
    # A caller's id is kept if it is a sane token; anything else is replaced,
    # so a header cannot inject text into logs or metadata.
    if given and len(given) <= 128 and set(given) <= _SAFE_ID:
        return given
    return uuid.uuid4().hex
