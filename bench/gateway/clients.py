"""The callers (direct gRPC, raw HTTP/1.1 and httpx through the gateway), and
driving them in a loop for a measured run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
from grpc import aio

from bench.gateway.procstat import CpuMeter, CpuUse
from bench.gateway.stack import HOST, Stack
from stockmesh.order.v1 import order_pb2, order_pb2_grpc
from stockmesh.stock.v1 import stock_pb2, stock_pb2_grpc

GET = "GetStockLevel"
CREATE = "CreateOrder"
CALL_TIMEOUT = 30.0

Call = Callable[[int], Awaitable[str | None]]  # client number -> None, or what went wrong


def order_body(warehouse: str, sku: str) -> bytes:
    order = {
        "channel": "SALES_CHANNEL_WEB_SHOP",
        "warehouse": warehouse,
        "lines": [{"sku": sku, "quantity": 1}],
    }
    return json.dumps(order, separators=(",", ":")).encode()


def content_length(head: bytes) -> int | None:
    """The Content-Length of an HTTP/1.1 response head, None if it has none."""
    lowered = head.lower()
    at = lowered.find(b"\r\ncontent-length:")
    if at < 0:
        return None
    return int(lowered[at + 17 : lowered.index(b"\r\n", at + 2)])


class Connection:
    """One persistent HTTP/1.1 connection, one request at a time: about the
    cheapest client asyncio allows, so the client's CPU leaves the most for the
    gateway on a shared machine."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = content_length(head)
        if length is None:
            raise ValueError(f"a response without content-length: {head[:200]!r}")
        body = await self.reader.readexactly(length) if length else b""
        return int(head[9:12]), body

    def close(self) -> None:
        self.writer.close()


@contextlib.asynccontextmanager
async def direct(stack: Stack, rpc: str, clients: int) -> AsyncIterator[Call]:
    """Calls over one grpc.aio channel straight to the service, as another service makes them."""
    channel = stack.channel("stock" if rpc == GET else "order")
    stock = stock_pb2_grpc.StockServiceStub(channel)
    orders = order_pb2_grpc.OrderServiceStub(channel)
    metadata = stack.metadata

    async def call(n: int) -> str | None:
        try:
            if rpc == GET:
                name = f"{stack.warehouse}/stockLevels/{stack.next_sku()}"
                await stock.GetStockLevel(
                    stock_pb2.GetStockLevelRequest(name=name), metadata=metadata, timeout=CALL_TIMEOUT
                )
            else:
                order = order_pb2.Order(
                    channel=order_pb2.SALES_CHANNEL_WEB_SHOP,
                    warehouse=stack.warehouse,
                    lines=[order_pb2.OrderLine(sku=stack.next_sku(), quantity=1)],
                )
                await orders.CreateOrder(
                    order_pb2.CreateOrderRequest(request_id=str(uuid.uuid4()), order=order),
                    metadata=metadata,
                    timeout=CALL_TIMEOUT,
                )
        except aio.AioRpcError as exc:
            return f"{exc.code().name}: {exc.details()}"
        return None

    try:
        yield call
    finally:
        await channel.close(None)


@contextlib.asynccontextmanager
async def raw_http(stack: Stack, port: int, rpc: str, clients: int) -> AsyncIterator[Call]:
    """The same calls through the gateway, each client on its own keep-alive connection."""
    connections = [await Connection.open(port) for _ in range(clients)]
    common = f"Host: {HOST}:{port}\r\nAuthorization: Bearer {stack.token}\r\n"
    gets = {
        sku: f"GET /v1/{stack.warehouse}/stockLevels/{sku} HTTP/1.1\r\n{common}\r\n".encode()
        for sku in stack.skus
    }

    def request() -> bytes:
        if rpc == GET:
            return gets[stack.next_sku()]
        body = order_body(stack.warehouse, stack.next_sku())
        head = (
            f"POST /v1/orders HTTP/1.1\r\n{common}Content-Type: application/json\r\n"
            f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def call(n: int) -> str | None:
        status, body = await connections[n].send(request())
        return None if status == 200 else f"HTTP {status}: {body[:300].decode(errors='replace')}"

    try:
        yield call
    finally:
        for connection in connections:
            connection.close()


@contextlib.asynccontextmanager
async def httpx_client(stack: Stack, port: int, rpc: str, clients: int) -> AsyncIterator[Call]:
    """The same through httpx.AsyncClient, its pool sized to the concurrency."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", limits=limits, headers=headers, timeout=CALL_TIMEOUT
    ) as client:

        async def call(n: int) -> str | None:
            if rpc == GET:
                reply = await client.get(f"/v1/{stack.warehouse}/stockLevels/{stack.next_sku()}")
            else:
                reply = await client.post(
                    "/v1/orders",
                    content=order_body(stack.warehouse, stack.next_sku()),
                    headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
                )
            return None if reply.status_code == 200 else f"HTTP {reply.status_code}: {reply.text[:300]}"

        yield call


@dataclass
class Run:
    rpc: str
    path: str
    clients: int
    seconds: float
    latencies: list[float]
    failures: int
    first_failure: str
    cpu: CpuUse

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def calls(self) -> int:
        return len(self.latencies) + self.failures

    def percentile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000

    def ms_per_call(self, cpu_seconds: float) -> float:
        """CPU seconds spent in the run, in milliseconds a call."""
        return 1000 * cpu_seconds / max(self.calls, 1)


async def drive(call: Call, clients: int, seconds: float) -> tuple[list[float], int, str, float]:
    """Each client calls in a loop until time is up: the latencies of successes,
    the failures, the first failure, the time taken."""
    latencies: list[float] = []
    failures = 0
    first = ""
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal failures, first
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                problem = await call(n)
            except (OSError, ValueError, asyncio.IncompleteReadError, httpx.HTTPError) as exc:
                # The connection is gone: this client stops rather than spin.
                failures += 1
                first = first or f"{type(exc).__name__}: {exc}"
                return
            if problem is None:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1
                first = first or problem

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, failures, first, time.perf_counter() - started


async def measure(
    target: contextlib.AbstractAsyncContextManager[Call],
    meter: CpuMeter,
    *,
    rpc: str,
    path: str,
    clients: int,
    seconds: float,
    warmup: float,
) -> Run:
    async with target as call:
        await drive(call, clients, warmup)
        start = meter.sample()
        latencies, failures, first, elapsed = await drive(call, clients, seconds)
        cpu = meter.since(start)
    return Run(rpc, path, clients, elapsed, latencies, failures, first, cpu)
