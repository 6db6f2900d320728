"""Fault injectors to put in front of a real service process, to prove that
callers retry what is safe to retry and nothing else.

`GrpcFaultProxy` loses, delays or refuses whole calls; `TcpResetProxy` resets
connections, on accept or part-way through a call. Each runs its own event
loop in a daemon thread, so synchronous tests start, arm and close them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import grpc
from google.protobuf import descriptor_pool
from grpc import aio

from kit import tls

T = TypeVar("T")
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE

# Set by the transport itself; relaying them would be refused or would lie.
# The google.rpc details trailer is a `grpc-` key that must go through as is.
_RESERVED = frozenset({"user-agent", "content-type", "te", "host"})
_STATUS_DETAILS = "grpc-status-details-bin"


def _relayable(metadata: Iterable[Any] | None) -> tuple[tuple[str, str | bytes], ...]:
    # Typed loosely: the stubs give aio.Metadata, tuples of _Metadatum, or None.
    return tuple(
        (key, value)
        for key, value in metadata or ()
        if key == _STATUS_DETAILS or not (key.startswith((":", "grpc-")) or key in _RESERVED)
    )


class _LoopThread:
    """An event loop of its own, so the sync test thread never blocks on it."""

    def __init__(self) -> None:
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    async def _shutdown(self) -> None:
        # Tasks left pending when the loop closes are reported as destroyed.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _stop(self) -> None:
        self._call(self._shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@dataclass
class _Fault:
    kind: Literal["drop", "delay", "fail"]
    remaining: int | None  # None: until heal()
    method: str | None
    seconds: float = 0.0
    code: grpc.StatusCode = UNAVAILABLE


class GrpcFaultProxy(_LoopThread):
    """A mTLS gRPC proxy, bytes in and bytes out, for unary-unary methods only.

    It presents the upstream service's own certificate, so callers that
    override the target name to the service account still verify it, and
    calls upstream as `caller_account`, so the service sees the caller's
    identity. A streaming method the protobuf pool knows is answered
    UNIMPLEMENTED. Faults apply, in the order armed, to the next calls whose
    path matches `method` (any method when None).
    """

    def __init__(self, upstream: str, tls_dir: Path, service_account: str, caller_account: str) -> None:
        super().__init__()
        self.upstream = upstream
        self.server_identity = tls.load(tls_dir, service_account)
        self.client_identity = tls.load(tls_dir, caller_account)
        self.service_account = service_account
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._calls: collections.Counter[str] = collections.Counter()
        self._forwarded: collections.Counter[str] = collections.Counter()
        self._answered_faults: collections.Counter[str] = collections.Counter()
        self._server: aio.Server | None = None
        self._channel: aio.Channel | None = None

    def start(self) -> int:
        self.port = self._call(self._start())
        return self.port

    async def _start(self) -> int:
        # aio objects belong to the loop they are made on: make them on ours.
        self._channel = aio.secure_channel(
            self.upstream,
            tls.channel_credentials(self.client_identity),
            options=[("grpc.ssl_target_name_override", self.service_account)],
        )
        self._server = aio.server()
        self._server.add_generic_rpc_handlers([_Handler(self)])
        port = self._server.add_secure_port("127.0.0.1:0", tls.server_credentials(self.server_identity))
        await self._server.start()
        return port

    def close(self) -> None:
        self._call(self._close())
        self._stop()

    async def _close(self) -> None:
        if self._server is not None:
            await self._server.stop(None)
        if self._channel is not None:
            await self._channel.close(None)

    def drop_responses(self, n: int | None, method: str | None = None) -> None:
        """Forward the call, then lose its answer: the caller sees UNAVAILABLE."""
        self._arm(_Fault("drop", n, method))

    def delay_responses(self, n: int | None, seconds: float, method: str | None = None) -> None:
        """Forward the call, then hold its answer back for `seconds`."""
        self._arm(_Fault("delay", n, method, seconds=seconds))

    def fail(self, n: int | None, code: grpc.StatusCode = UNAVAILABLE, method: str | None = None) -> None:
        """Answer `code` without forwarding; `n=None` until `heal()`."""
        self._arm(_Fault("fail", n, method, code=code))

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()

    def _arm(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, method: str) -> _Fault | None:
        with self._lock:
            self._calls[method] += 1
            for fault in self._faults:
                if fault.method is None or fault.method == method:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    self._answered_faults[method] += 1
                    return fault
            return None

    def _snapshot(self, counter: collections.Counter[str]) -> dict[str, int]:
        with self._lock:
            return dict(counter)

    @property
    def calls(self) -> dict[str, int]:
        """Every call the proxy saw, per method path."""
        return self._snapshot(self._calls)

    @property
    def forwarded(self) -> dict[str, int]:
        """Calls sent on upstream, answered or not (a dropped one counts)."""
        return self._snapshot(self._forwarded)

    @property
    def answered_faults(self) -> dict[str, int]:
        """Calls a fault was applied to: failed, dropped or delayed."""
        return self._snapshot(self._answered_faults)

    @property
    def totals(self) -> dict[str, int]:
        """{"calls": .., "forwarded": .., "answered_faults": ..} over all methods."""
        with self._lock:
            return {
                "calls": self._calls.total(),
                "forwarded": self._forwarded.total(),
                "answered_faults": self._answered_faults.total(),
            }

    async def relay(self, request: bytes, ctx: aio.ServicerContext[bytes, bytes], method: str) -> bytes:
        fault = self._take(method)
        if fault is not None and fault.kind == "fail":
            await ctx.abort(fault.code, f"{fault.code.name} injected by fault proxy")
        assert self._channel is not None
        with self._lock:
            self._forwarded[method] += 1
        call = self._channel.unary_unary(method, None, None)(
            request, metadata=_relayable(ctx.invocation_metadata()), timeout=ctx.time_remaining()
        )
        try:
            response: bytes | None = await call
            error: aio.AioRpcError | None = None
        except aio.AioRpcError as exc:
            response, error = None, exc
        if fault is not None and fault.kind == "drop":
            await ctx.abort(UNAVAILABLE, "connection reset by fault proxy")
        if fault is not None and fault.kind == "delay":
            # A caller whose deadline passes meanwhile cancels this task here.
            await asyncio.sleep(fault.seconds)
        if error is not None:
            await ctx.send_initial_metadata(_relayable(error.initial_metadata()))
            await ctx.abort(error.code(), error.details() or "", _relayable(error.trailing_metadata()))
        await ctx.send_initial_metadata(_relayable(await call.initial_metadata()))
        ctx.set_trailing_metadata(_relayable(await call.trailing_metadata()))
        assert response is not None
        return response


class _Handler(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    def __init__(self, proxy: GrpcFaultProxy) -> None:
        self.proxy = proxy

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:  # type: ignore[type-arg]
        method = handler_call_details.method
        with contextlib.suppress(KeyError):
            found = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
            if found.client_streaming or found.server_streaming:
                return None  # grpc answers UNIMPLEMENTED

        async def behaviour(request: bytes, ctx: aio.ServicerContext[bytes, bytes]) -> bytes:
            return await self.proxy.relay(request, ctx, method)

        return grpc.unary_unary_rpc_method_handler(behaviour)


class TcpResetProxy(_LoopThread):
    """Forwards TCP to a target, resetting the next connections it accepts:
    at once (a connect that fails) or once `after_bytes` bytes went from the
    client to the target (a connection lost mid-call)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__()
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._armed: collections.deque[int | None] = collections.deque()
        self._resets = 0
        self._client_bytes = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> int:
        self.port = self._call(self._listen())
        return self.port

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def reset_connections(self, n: int, *, after_bytes: int | None = None) -> None:
        """Reset the next `n` connections accepted (replacing what was armed)."""
        with self._lock:
            self._armed = collections.deque([after_bytes or 0] * n)

    def reset_open_connections(self) -> None:
        """Reset every connection relayed now, as a network that goes away does."""
        self._call(self._reset_open())

    async def _reset_open(self) -> None:
        for writer in list(self._writers):
            self._reset(writer)

    @property
    def resets(self) -> int:
        with self._lock:
            return self._resets

    @property
    def client_bytes(self) -> int:
        """Bytes relayed from clients to the target, over all connections."""
        with self._lock:
            return self._client_bytes

    def close(self) -> None:
        self._call(self._close())
        self._stop()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()

    def _reset(self, writer: asyncio.StreamWriter) -> None:
        # Without a zero linger, closing sends FIN: the peer would see a clean end.
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        with self._lock:
            self._resets += 1

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            budget = self._armed.popleft() if self._armed else None
        if budget == 0:
            self._reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def upstream() -> None:
            sent = 0
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    data = data if budget is None else data[: budget - sent]
                    sent += len(data)
                    with self._lock:
                        self._client_bytes += len(data)
                    up_writer.write(data)
                    await up_writer.drain()
                    if sent == budget:
                        self._reset(writer)
                        break
            # A plain close: what was relayed still reaches the target, then EOF.
            up_writer.close()

        async def downstream() -> None:
            with contextlib.suppress(OSError):
                while (data := await up_reader.read(65536)) and not writer.transport.is_closing():
                    writer.write(data)
                    await writer.drain()
            writer.close()

        try:
            await asyncio.gather(upstream(), downstream())
        finally:
            self._writers -= {writer, up_writer}
