"""Etags for optimistic concurrency (AIP-154): opaque, derived from a row's version."""

from __future__ import annotations

import functools
import hashlib

from kit.errors import EtagMismatch


@functools.lru_cache(maxsize=4096)
def etag(name: str, version: int) -> str:
    # Cached: a hot row's etag is asked for by every response that shows it.
    return hashlib.sha256(f"{name}@{version}".encode()).hexdigest()[:20]


def check(name: str, version: int, given: str) -> None:
    """An empty etag means "whatever is there"; a stale one is ABORTED."""
    if given and given != etag(name, version):
        raise EtagMismatch(name)
