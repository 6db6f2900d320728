"""What every phase of the demo shares: the run (the API as each demo user,
and what earlier phases found), deterministic request ids, and creating
something that may already exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tools.demo_plan import UserSpec
from tools.rest import JSON, Api, ApiError, request_key


class DemoError(Exception):
    """A phase cannot go on for a reason other than an HTTP refusal; the message says why."""


@dataclass
class Run:
    """One run of the demo against one tenant: the API and what was found."""

    api: Api  # as the admin
    tenant: str
    crew: dict[str, Api] = field(default_factory=dict)  # role -> the API as that role's demo user
    warehouses: dict[str, str] = field(default_factory=dict)  # plan key -> "warehouses/{id}"
    suppliers: dict[str, str] = field(default_factory=dict)  # plan key -> "suppliers/{id}"

    @property
    def namespace(self) -> uuid.UUID:
        """Request ids are per tenant, as the services scope them."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"https://stockmesh.local/demo/{self.tenant}")

    def key(self, *parts: object) -> str:
        """The request id of one create: the same on every run for the same thing."""
        return request_key(self.namespace, *(str(p) for p in parts))

    def team(self, *roles: str) -> list[Api]:
        """The logged-in demo users holding these roles, or the admin if none could log in.
        Work is spread over them as a shop spreads it over people, and each
        user has a rate limit of its own at the gateway."""
        return [self.crew[r] for r in roles if r in self.crew] or [self.api]

    def one(self, role: str) -> Api:
        """The demo user with this role (or the admin)."""
        return self.team(role)[0]


async def log_in(api: Api, tenant: str, user: UserSpec) -> None:
    """Logs `api` in as a demo user: its requests carry that user's token from now on."""
    body = {"tenant": tenant, "email": user.email(tenant), "password": user.password}
    # A fresh id: a login is not a change to replay, and its answer must be a new token.
    reply = await api.post(f"log in as {user.email(tenant)}", "/v1/auth:login", body, key=str(uuid.uuid4()))
    api.token = str(reply["tokens"]["accessToken"])


def created_summary(done: list[bool], noun: str) -> str:
    """How many of `done` were created now, e.g. "3 users created, 2 already there"."""
    made = sum(done)
    return f"{made} {noun} created, {len(done) - made} already there"


async def create(api: Api, step: str, path: str, body: JSON, key: str) -> bool:
    """True if this call created the resource, False if it already existed."""
    try:
        await api.post(step, path, body, key=key)
    except ApiError as exc:
        if exc.already_exists:
            return False
        raise
    return True
