"""Signing keys: the key that signs access tokens, and the public keys (JWKS)
every service verifies them with."""

from __future__ import annotations

import json
from typing import Any

from kit.uow import Units
from svc_user import crypto
from svc_user.domain import SigningKey
from svc_user.ports import UserUnit


class KeyRing:
    def __init__(self, units: Units[UserUnit]) -> None:
        self.units = units
        self.now = units.now

    def _new_key(self) -> SigningKey:
        kid, private_pem, public_jwk = crypto.new_signing_key()
        return SigningKey(kid, private_pem, public_jwk, self.now())

    async def ensure_signing_key(self) -> None:
        """Create the first signing key if there is none (first start)."""

        async def work(uow: UserUnit) -> None:
            if await uow.signing_keys.active() is None:
                await uow.signing_keys.add(self._new_key())

        await self.units.run(work)

    async def rotate_signing_key(self) -> str:
        """Add a new key that signs from now on; older keys still verify."""
        key = self._new_key()

        async def work(uow: UserUnit) -> None:
            await uow.signing_keys.add(key)

        await self.units.run(work)
        return key.kid

    async def jwks(self) -> list[dict[str, Any]]:
        async with self.units.read() as uow:
            return [json.loads(jwk) for jwk in await uow.signing_keys.public_jwks()]
