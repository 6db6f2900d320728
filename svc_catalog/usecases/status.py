"""Archive and unarchive, for products and variants alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from kit import errors, etag
from kit.uow import Versioned, revise

E = TypeVar("E", bound=Versioned)


async def change_status(
    current: E | None,
    transition: Callable[[E], E],
    save: Callable[[E, int], Awaitable[bool]],
    *,
    kind: str,
    name: str,
    given_etag: str,
) -> E:
    """`kit.uow.revise` for a status change, except that an entity already in
    the wanted state is left as it is (its etag still checked, its version
    kept): archiving twice changes nothing the second time."""
    if current is None:
        raise errors.NotFound(kind, name)
    etag.check(name, current.version, given_etag)
    changed = transition(current)
    if changed is current:
        return current
    return await revise(current, lambda _: changed, save, kind=kind, name=name, given_etag=given_etag)
