"""SSE subscribers on the gateway, each read straight off its socket, and a
board that counts their deliveries."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from bench.gateway.clients import content_length
from bench.gateway.stack import HOST, Gateway, Stack

OPEN_AT_ONCE = 50  # subscribers connecting concurrently while the fan-out is set up


class Board:
    """Counts deliveries, to know when every subscriber has had the latest change."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.reached: asyncio.Future[None] | None = None

    def expect(self, target: int) -> asyncio.Future[None]:
        self.target = target
        self.reached = asyncio.get_running_loop().create_future()
        if self.count >= target:
            self.reached.set_result(None)
        return self.reached

    def arrived(self) -> None:
        self.count += 1
        if self.reached is not None and not self.reached.done() and self.count >= self.target:
            self.reached.set_result(None)


class Subscriber(asyncio.Protocol):
    """One SSE stream read straight off its socket: an event's arrival time is
    taken when its bytes arrive, before anything is parsed."""

    def __init__(self, request: bytes, board: Board) -> None:
        self.request = request
        self.board = board
        self.transport: asyncio.Transport | None = None
        self.head: bytes | None = None
        self.chunked = False
        self.raw = bytearray()  # bytes off the socket, not yet de-chunked
        self.body = bytearray()  # the stream, not yet split into events
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.events: list[tuple[float, bytes]] = []
        self.heartbeats = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.raw += data
        if self.head is None:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head = bytes(self.raw[: end + 4])
            del self.raw[: end + 4]
            self.chunked = b"transfer-encoding: chunked" in self.head.lower()
        if not self.head.startswith(b"HTTP/1.1 200"):
            self._refused()
            return
        if self.chunked:
            self._dechunk()
        else:
            self.body += self.raw
            self.raw.clear()
        while (end := self.body.find(b"\n\n")) >= 0:
            block = bytes(self.body[:end])
            del self.body[: end + 2]
            if block.startswith(b":"):
                if block == b": heartbeat":
                    self.heartbeats += 1
                elif not self.opened.done():
                    self.opened.set_result(None)
            else:
                self.events.append((now, block))
                self.board.arrived()

    def _dechunk(self) -> None:
        while (line := self.raw.find(b"\r\n")) >= 0:
            size = int(bytes(self.raw[:line]).split(b";")[0], 16)
            if len(self.raw) < line + 4 + size:
                return
            self.body += self.raw[line + 2 : line + 2 + size]
            del self.raw[: line + 4 + size]

    def _refused(self) -> None:
        assert self.head is not None
        length = content_length(self.head)
        if length is None:
            length = len(self.raw)
        if len(self.raw) >= length and not self.opened.done():
            status = self.head.split(b"\r\n", 1)[0].decode(errors="replace")
            self.opened.set_exception(RuntimeError(f"{status}: {bytes(self.raw).decode(errors='replace')}"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before the stream opened: {exc}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_subscribers(
    stack: Stack, gateway: Gateway, count: int, board: Board
) -> tuple[list[Subscriber], Counter[str], float]:
    """`count` SSE streams on the gateway, OPEN_AT_ONCE connecting at a time:
    those that opened, why the others did not, and how long it took."""
    loop = asyncio.get_running_loop()
    request = (
        f"GET /v1/{stack.warehouse}/stockLevels:watch HTTP/1.1\r\nHost: {HOST}:{gateway.port}\r\n"
        f"Authorization: Bearer {stack.token}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    subscribers: list[Subscriber] = []
    refusals: Counter[str] = Counter()

    async def subscribe() -> None:
        try:
            _, protocol = await loop.create_connection(lambda: Subscriber(request, board), HOST, gateway.port)
            subscribers.append(protocol)
            await asyncio.wait_for(asyncio.shield(protocol.opened), 30)
        except (OSError, RuntimeError, TimeoutError) as exc:
            refusals[f"{type(exc).__name__}: {exc}"[:300]] += 1

    started = time.perf_counter()
    for first in range(0, count, OPEN_AT_ONCE):
        await asyncio.gather(*(subscribe() for _ in range(min(OPEN_AT_ONCE, count - first))))
    elapsed = time.perf_counter() - started
    live = [
        s
        for s in subscribers
        if s.opened.done() and not s.opened.cancelled() and s.opened.exception() is None
    ]
    return live, refusals, elapsed
