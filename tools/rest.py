"""A small client of the REST/JSON gateway for tools.

Every mutation carries an `Idempotency-Key` chosen by the caller (the demo
derives it with uuid5, so a rerun sends the same key and the gateway's
services return the first answer instead of acting twice). Refusals that
mean "try again" (429 with Retry-After, 502/503/504) are retried with the
same key, which is what makes retrying a mutation safe. Anything else comes
back as an `ApiError` that names the step, for the caller to print.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpx

JSON = dict[str, Any]
Query = Sequence[tuple[str, str]]
T = TypeVar("T")

# By default the gateway lets each user make 50 requests a second (burst 100)
# and each client address 100 (burst 200). Staying a little below both means a long
# run is never stalled by a 429's whole-second Retry-After.
PER_USER = (45.0, 80)
PER_ADDRESS = (95.0, 180)
TRANSIENT = frozenset({429, 502, 503, 504})
ATTEMPTS = 6
TRANSPORT_ATTEMPTS = 3  # a gateway that stops answering is reported, not waited for
PAGE_SIZE = 1000

# google.rpc.Code numbers that matter to callers.
ALREADY_EXISTS = 6


class ApiError(Exception):
    """The gateway refused a step: its HTTP status and the JSON error body."""

    def __init__(self, step: str, status: int, body: JSON | str) -> None:
        super().__init__(f"{step}: HTTP {status}")
        self.step = step
        self.status = status
        self.body = body

    @property
    def code(self) -> int | None:
        """The google.rpc.Code of the error, if the body is a Status."""
        value = self.body.get("code") if isinstance(self.body, dict) else None
        return value if isinstance(value, int) else None

    @property
    def metadata(self) -> Mapping[str, str]:
        """The ErrorInfo's metadata, e.g. {"order": "orders/..."} for a taken external id."""
        found = self._error_info().get("metadata", {})
        return found if isinstance(found, dict) else {}

    @property
    def already_exists(self) -> bool:
        """ALREADY_EXISTS (HTTP 409 is also ABORTED, a stale etag, which is not this)."""
        return self.status == 409 and self.code == ALREADY_EXISTS

    def _error_info(self) -> JSON:
        details = self.body.get("details", []) if isinstance(self.body, dict) else []
        for detail in details if isinstance(details, list) else []:
            if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo"):
                return detail
        return {}


class Unreachable(Exception):
    """No HTTP answer at all: nothing listens there, or it stopped answering."""

    def __init__(self, step: str, url: str, cause: Exception) -> None:
        super().__init__(f"{step}: {url} did not answer ({type(cause).__name__}: {cause})")
        self.step = step
        self.url = url
        self.cause = cause


class _Pacer:
    """A token bucket shared by concurrent callers: `rate` a second, `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= 1
            delay = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if delay:
            await asyncio.sleep(delay)


@dataclass
class _Shared:
    """What every user's view of one gateway shares: connections, the
    address's rate, and the request count."""

    client: httpx.AsyncClient
    pacer: _Pacer
    requests: int = 0


class Api:
    """The gateway at `base_url`, as one logged-in user once `token` is set."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, user_agent: str = "stockmesh-tools") -> None:
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None
        self._pacer = _Pacer(*PER_USER)
        self._shared = _Shared(
            httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(timeout, connect=5.0),
                headers={"User-Agent": user_agent, "Accept": "application/json"},
            ),
            _Pacer(*PER_ADDRESS),
        )

    def sibling(self) -> Api:
        """The same gateway and connections, for another user (own token and rate)."""
        other = copy.copy(self)
        other.token = None
        other._pacer = _Pacer(*PER_USER)
        return other

    @property
    def requests(self) -> int:
        return self._shared.requests

    async def close(self) -> None:
        await self._shared.client.aclose()

    async def get(self, step: str, path: str, query: Query = ()) -> JSON:
        return await self._send(step, "GET", path, query=query)

    async def post(self, step: str, path: str, body: JSON, *, key: str) -> JSON:
        """A mutation: `key` is its Idempotency-Key (and so its request_id)."""
        return await self._send(step, "POST", path, body=body, key=key)

    async def list_all(self, step: str, path: str, field: str, query: Query = ()) -> list[JSON]:
        """Every item of a List call, following next_page_token."""
        items: list[JSON] = []
        token = ""
        while True:
            paging = [("pageSize", str(PAGE_SIZE))] + ([("pageToken", token)] if token else [])
            page = await self.get(step, path, [*query, *paging])
            items.extend(page.get(field, []))
            token = str(page.get("nextPageToken", ""))
            if not token:
                return items

    async def _send(
        self, step: str, method: str, path: str, *, query: Query = (), body: JSON | None = None, key: str = ""
    ) -> JSON:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key:
            # The same key on every attempt: a retry of a mutation that did
            # land is answered from the service's record, not applied again.
            headers["Idempotency-Key"] = key
            headers["X-Request-Id"] = key
        delay = 0.5
        for attempt in range(1, ATTEMPTS + 1):
            await self._pacer.wait()
            await self._shared.pacer.wait()
            self._shared.requests += 1
            try:
                reply = await self._shared.client.request(
                    method, path, params=list(query), json=body, headers=headers
                )
            except httpx.ConnectError as exc:
                raise Unreachable(step, self.base_url, exc) from None
            except httpx.TransportError as exc:
                # A timeout or a dropped connection: the call may or may not
                # have landed, and only the idempotency key makes asking again safe.
                if attempt >= TRANSPORT_ATTEMPTS or (method != "GET" and not key):
                    raise Unreachable(step, self.base_url, exc) from None
                await asyncio.sleep(delay)
                delay *= 2
                continue
            if reply.status_code in TRANSIENT and attempt < ATTEMPTS:
                await asyncio.sleep(_retry_after(reply, delay))
                delay *= 2
                continue
            return _decoded(step, reply)
        raise AssertionError("unreachable: the last attempt always returns or raises")


def _retry_after(reply: httpx.Response, fallback: float) -> float:
    given = reply.headers.get("Retry-After", "")
    return min(float(given), 10.0) if given.isdigit() else fallback


def _decoded(step: str, reply: httpx.Response) -> JSON:
    try:
        data: Any = reply.json()
    except ValueError:
        data = reply.text[:500]
    if reply.status_code >= 400:
        raise ApiError(step, reply.status_code, data if isinstance(data, dict | str) else str(data))
    if not isinstance(data, dict):
        raise ApiError(step, reply.status_code, f"expected a JSON object, got {str(data)[:200]}")
    return data


async def bounded(calls: Iterable[Awaitable[T]], limit: int = 6) -> list[T]:
    """Runs the calls at most `limit` at a time; the first failure is raised
    once every call has finished (each is idempotent, so none is cut short)."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    results = await asyncio.gather(*(one(c) for c in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if not isinstance(r, BaseException)]


def request_key(namespace: uuid.UUID, *parts: str) -> str:
    """A deterministic request id: the same parts give the same id on every run."""
    return str(uuid.uuid5(namespace, "/".join(parts)))


def money(amount: Decimal | str, currency: str = "EUR") -> JSON:
    """google.type.Money in its JSON form from a decimal amount such as "12.90"."""
    value = Decimal(amount)
    units = int(value)
    nanos = int((value - units) * 1_000_000_000)
    return {"currencyCode": currency, "units": str(units), "nanos": nanos}


def days(count: int) -> str:
    """google.protobuf.Duration in its JSON form."""
    return f"{count * 86400}s"
