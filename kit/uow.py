"""Units of work: the one transaction a use case reads and writes through.

The shape is cosmicpython's `AbstractUnitOfWork`, made async. A service
subclasses `UnitOfWork` with its repositories (abstract, next to its use
cases), implements it once on SQL (`kit.sql.SqlUnitOfWork`) and once in
memory (`kit.memory.MemoryUnitOfWork`) for fast specifications. Use cases
never see a connection:

    async def rename(uow: CatalogUnit) -> Product:
        return await revise(await uow.products.get(tenant, pid, lock=True), ...)

    product = await self.units.once(key, cmd, Product)(rename)

`Units` owns what every use case would otherwise repeat: the transaction,
running it again after a serialization failure or deadlock, the idempotency
claim of a mutating call (`once`), and the etag sequence of an update
(`revise`).
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import msgspec

from kit import errors, etag
from kit.request_keys import DEFAULT_RETENTION, Key, claim_row, fingerprint, validate_request_id

T = TypeVar("T")

# The reason kit.db gives a transaction PostgreSQL aborted as a deadlock
# victim or for a serialization failure: the only failure run again.
CONFLICT = "TRANSACTION_CONFLICT"


class Claims(abc.ABC):
    """A service's idempotency records, seen from inside a unit of work."""

    @abc.abstractmethod
    async def claim(self, key: Key, digest: str, now: datetime, retention: timedelta) -> bytes | None:
        """Claim `key` in this unit of work: None when it is new, else the
        result an earlier unit stored with it. The same key with another
        operation or command is refused (REQUEST_ID_REUSED)."""

    @abc.abstractmethod
    async def record(self, key: Key, result: bytes) -> None:
        """Store the result of a key claimed in this unit of work."""

    @abc.abstractmethod
    async def forget(self, key: Key) -> None:
        """Free a key whose recorded effect was undone since (a compensation),
        so a retry with it takes effect afresh instead of replaying."""


def reused(operation: str) -> errors.InvalidArgument:
    """The refusal of a request_id sent again with a different command."""
    return errors.InvalidArgument(
        [
            errors.FieldViolation(
                "request_id",
                f"already used for a different request ({operation}); choose a new id for a new change",
            )
        ],
        reason="REQUEST_ID_REUSED",
    )


class UnitOfWork(abc.ABC):
    """One transaction. Nothing is kept unless `commit` is called; leaving
    the block without it (or with an error) rolls everything back."""

    claims: Claims

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.rollback()

    @abc.abstractmethod
    async def commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo what was not committed; nothing after a commit."""


U = TypeVar("U", bound=UnitOfWork)
U_co = TypeVar("U_co", bound=UnitOfWork, covariant=True)


class Opener(Protocol[U_co]):
    def __call__(self, *, read_only: bool) -> U_co: ...


class Units(Generic[U]):
    """Where a service's use cases get their units of work."""

    def __init__(self, opener: Opener[U], clock: Callable[[], datetime], *, attempts: int = 5) -> None:
        self._open = opener
        self.now = clock
        self.attempts = attempts

    def write(self) -> U:
        """A read-write unit; commit it explicitly."""
        return self._open(read_only=False)

    def read(self) -> U:
        """A read-only unit (on SQLite it does not take the write lock)."""
        return self._open(read_only=True)

    async def run(self, work: Callable[[U], Awaitable[T]]) -> T:
        """`work` in a unit that is committed when it returns, and run again
        from scratch when the database aborted it for a conflict: nothing of
        the aborted attempt was kept, so running it again is safe."""
        for attempt in range(1, self.attempts + 1):
            try:
                async with self.write() as uow:
                    result = await work(uow)
                    await uow.commit()
                    return result
            except errors.Aborted as exc:
                if exc.reason != CONFLICT or attempt == self.attempts:
                    raise
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

    def once(
        self, key: Key, command: object, result: type[T], *, retention: timedelta = DEFAULT_RETENTION
    ) -> Once[U, T]:
        """A mutating call bound to its request id: `await once(work)` runs
        `work` unless the id already took effect, and returns the first result
        either way. The id is checked here, before any work."""
        validate_request_id(key.request_id)
        return Once(self, key, fingerprint(command), result, retention)


@dataclass(frozen=True)
class Once(Generic[U, T]):
    """A call that takes effect once per request id (see `Units.once`)."""

    units: Units[U]
    key: Key
    digest: str
    result: type[T]
    retention: timedelta

    async def __call__(self, work: Callable[[U], Awaitable[T]]) -> T:
        async def attempt(uow: U) -> T:
            previous = await uow.claims.claim(self.key, self.digest, self.units.now(), self.retention)
            if previous is not None:
                return msgspec.json.decode(previous, type=self.result)
            outcome = await work(uow)
            await uow.claims.record(self.key, msgspec.json.encode(outcome))
            return outcome

        return await self.units.run(attempt)

    async def earlier(self) -> T | None:
        """The first result if this request already took effect, else None,
        taking no effect: for a use case that must call a neighbour before its
        own unit of work runs, so a replay is known before the call. The
        probing claim is rolled back; a reused id is refused here too."""
        async with self.units.write() as uow:
            previous = await uow.claims.claim(self.key, self.digest, self.units.now(), self.retention)
        return None if previous is None else msgspec.json.decode(previous, type=self.result)

    def row(self, result: object, now: datetime) -> dict[str, Any]:
        """The record this claim writes, for a store that claims inside a
        statement of its own, with the result known before it runs."""
        return claim_row(
            self.key, self.digest, now, result=msgspec.json.encode(result), retention=self.retention
        )


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


E = TypeVar("E", bound=Versioned)


async def revise(
    current: E | None,
    change: Callable[[E], E],
    save: Callable[[E, int], Awaitable[bool]],
    *,
    kind: str,
    name: str,
    given_etag: str,
) -> E:
    """The sequence of every update of a versioned entity, in one place:
    missing → NOT_FOUND; a stale etag → ABORTED; `change` decides the new
    state (and may refuse); saved with the next version only if nobody saved
    another in between (`save(changed, expected_version)`)."""
    if current is None:
        raise errors.NotFound(kind, name)
    etag.check(name, current.version, given_etag)
    changed = dataclasses.replace(change(current), version=current.version + 1)  # type: ignore[type-var]
    if not await save(changed, current.version):
        raise errors.EtagMismatch(name)
    return changed
