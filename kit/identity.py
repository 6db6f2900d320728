"""Roles and the authenticated user: plain values that domain code may use."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CLERK = "clerk"
    BUYER = "buyer"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    """A user, as proven by a verified access token; or, for system work, a
    service proven by its mTLS identity, acting within one tenant."""

    user_id: str
    tenant_id: str
    roles: frozenset[Role]
    token_id: str
    # Set instead of a user for system work of another service (a booking
    # retried in the background): its service account, e.g. "svc-procure".
    service: str = ""

    def holds_any(self, roles: frozenset[Role]) -> bool:
        # Admins may do everything; the rules need not list them.
        return Role.ADMIN in self.roles or bool(self.roles & roles)
