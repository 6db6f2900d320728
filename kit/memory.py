"""Units of work in memory, for fast specifications of use cases.

A service's fake unit of work subclasses `MemoryUnitOfWork` with the same
repositories as its SQL one, kept in a `State` of plain dicts. A unit works
on a deep copy of the state and swaps it in on commit, so a use case that
fails half way leaves nothing behind, as a rolled-back transaction would.
Units run one after another here: concurrency is specified on PostgreSQL.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Self, TypeVar

from kit.request_keys import Key
from kit.uow import Claims, UnitOfWork, reused


@dataclass
class Claim:
    operation: str
    digest: str
    expires_at: datetime
    result: bytes | None = None


@dataclass
class State:
    """What a service keeps; a service's state adds its own tables as dicts."""

    claims: dict[tuple[str, str], Claim] = field(default_factory=dict)


S = TypeVar("S", bound=State)


class MemoryClaims(Claims):
    def __init__(self, claims: dict[tuple[str, str], Claim]) -> None:
        self.claims = claims

    async def claim(self, key: Key, digest: str, now: datetime, retention: timedelta) -> bytes | None:
        found = self.claims.get((key.scope, key.request_id))
        if found is None or found.expires_at < now:
            self.claims[key.scope, key.request_id] = Claim(key.operation, digest, now + retention)
            return None
        if found.operation != key.operation or found.digest != digest:
            raise reused(found.operation)
        return found.result

    async def record(self, key: Key, result: bytes) -> None:
        self.claims[key.scope, key.request_id].result = result

    async def forget(self, key: Key) -> None:
        self.claims.pop((key.scope, key.request_id), None)


class Memory(Generic[S]):
    """The committed state every unit of one fake service starts from."""

    def __init__(self, state: S) -> None:
        self.state = state
        self.commits = 0


class MemoryUnitOfWork(UnitOfWork, Generic[S]):
    """Subclasses build their repositories on `self.state` in `bind`."""

    state: S

    def __init__(self, memory: Memory[S], *, read_only: bool = False) -> None:
        self.memory = memory
        self.read_only = read_only

    def bind(self, state: S) -> None:
        """Build the repositories on this unit's copy of the state."""

    async def __aenter__(self) -> Self:
        self.state = copy.deepcopy(self.memory.state)
        self.claims = MemoryClaims(self.state.claims)
        self.bind(self.state)
        return self

    async def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.memory.state = self.state
        self.memory.commits += 1

    async def rollback(self) -> None:
        pass
