"""Signing keys: the key that signs access tokens, and the public keys (JWKS)
every service verifies them with.

The key comes from one of two places. By default svc_user makes its own and
keeps it in its database (`stockmesh rotate-signing-key` adds a new one). In a
cluster it is a mounted secret (`STOCKMESH_USER_SIGNING_KEY_FILE`, a P-256 PEM):
each replica signs with the file it reads and publishes the public half in the
shared table, so every replica's JWKS names it; the private half never enters
the database. When the secret changes, the replica that first reads the new
file retires the other keys.

A retired key signs no more, but stays in the JWKS for `verify_for` (the
access tokens' lifetime, plus leeway and the time a changed secret takes to
reach every replica), so no token it signed fails before it expires.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from kit import errors
from kit.uow import Units
from svc_user import crypto
from svc_user.domain import SigningKey
from svc_user.ports import UserUnit

# Held outside the database: the replica's own file has the private half.
ELSEWHERE = ""


class KeyRing:
    def __init__(
        self, units: Units[UserUnit], *, verify_for: timedelta, key_file: Path | None = None
    ) -> None:
        self.units = units
        self.now = units.now
        self.verify_for = verify_for
        self.key_file = key_file
        self.held: SigningKey | None = None

    def _new_key(self) -> SigningKey:
        kid, private_pem, public_jwk = crypto.new_signing_key()
        return SigningKey(kid, private_pem, public_jwk, self.now())

    async def start(self) -> None:
        """The key to sign with from the first call on: the mounted one, or the database's
        (made on the very first start)."""
        if self.key_file is not None:
            await self.reload()
            return

        async def work(uow: UserUnit) -> None:
            if await uow.signing_keys.active() is None:
                await uow.signing_keys.add(self._new_key())

        await self.units.run(work)

    async def reload(self) -> bool:
        """Reads the mounted key again; a new one signs from now on and retires the others.
        Answers whether the key changed."""
        assert self.key_file is not None
        private_pem = self.key_file.read_text()
        kid, public_jwk = crypto.signing_key_of_pem(private_pem)
        if self.held is not None and self.held.kid == kid:
            return False
        key = SigningKey(kid, private_pem, public_jwk, self.now())

        async def work(uow: UserUnit) -> None:
            if not await uow.signing_keys.known(kid):
                await uow.signing_keys.add(SigningKey(kid, ELSEWHERE, public_jwk, key.created_at))
            await uow.signing_keys.retire_others(kid, key.created_at)

        await self.units.run(work)
        self.held = key
        return True

    async def signing_key(self, uow: UserUnit) -> SigningKey | None:
        """The key that signs a token issued in `uow`."""
        if self.key_file is not None:
            return self.held
        return await uow.signing_keys.active()

    async def rotate_signing_key(self) -> str:
        """A new key signs from now on; the others verify until their tokens have expired."""
        if self.key_file is not None:
            raise errors.FailedPrecondition(
                f"the signing key is the mounted file {self.key_file}: rotate the secret instead",
                reason="SIGNING_KEY_MOUNTED",
            )
        key = self._new_key()

        async def work(uow: UserUnit) -> None:
            await uow.signing_keys.add(key)
            await uow.signing_keys.retire_others(key.kid, key.created_at)

        await self.units.run(work)
        return key.kid

    async def jwks(self) -> list[dict[str, Any]]:
        async with self.units.read() as uow:
            published = await uow.signing_keys.public_jwks(retired_after=self.now() - self.verify_for)
        return [json.loads(jwk) for jwk in published]
