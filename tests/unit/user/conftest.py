"""svc_user's use cases on in-memory units of work: no database, no process."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from kit.identity import Principal, Role
from kit.memory import Memory
from kit.uow import Units
from svc_user import commands, crypto
from svc_user.domain import Tenant, User
from svc_user.ports import UserUnit
from svc_user.usecases.keys import KeyRing
from svc_user.usecases.sessions import Sessions
from svc_user.usecases.tenants import Tenancy
from svc_user.usecases.users import UserAccounts
from tests.fakes import user as fake

PASSWORD = "Correct-Horse-9"
NEW_PASSWORD = "Another-Secret-7"
ACCESS_TTL = timedelta(minutes=15)
KEY_GRACE = timedelta(minutes=5)
REFRESH_TTL = timedelta(days=30)


class Clock:
    """Now, moved on by hand. The JWT library checks access tokens against
    the wall clock, so it starts a little before it: a token issued after
    moving it on some minutes is neither from the future nor expired."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Svc:
    """svc_user's use cases on one memory."""

    memory: Memory[fake.UserState]
    clock: Clock
    tenancy: Tenancy
    accounts: UserAccounts
    sessions: Sessions
    keys: KeyRing


@dataclass(frozen=True)
class Bootstrap:
    tenant: Tenant
    admin: User

    @property
    def who(self) -> Principal:
        return as_principal(self.admin)


def as_principal(user: User) -> Principal:
    return Principal(user.id, user.tenant_id, frozenset(user.roles), token_id="t")


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its production cost takes tens of milliseconds a hash;
    these specifications are about the rules, so they hash cheaply."""
    monkeypatch.setattr(crypto, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def svc(clock: Clock) -> Svc:
    memory = Memory(fake.UserState())
    units: Units[UserUnit] = fake.units(clock, memory)
    keys = KeyRing(units, verify_for=ACCESS_TTL + KEY_GRACE)
    await keys.start()
    sessions = Sessions(units, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, signer=keys.signing_key)
    return Svc(memory, clock, Tenancy(units), UserAccounts(units), sessions, keys)


@pytest.fixture
async def acme(svc: Svc) -> Bootstrap:
    tenant, admin = await svc.tenancy.create_tenant(
        commands.CreateTenant("acme", "Acme", "Admin@Acme.test", PASSWORD)
    )
    return Bootstrap(tenant, admin)


async def add_user(svc: Svc, acme: Bootstrap, email: str, *roles: Role) -> User:
    cmd = commands.CreateUser(email, "", roles or (Role.CLERK,), PASSWORD)
    return await svc.accounts.create_user(acme.who, f"create-{email}", cmd)


async def sign_in(svc: Svc, email: str, password: str = PASSWORD) -> str:
    """A login to acme under a fresh request id; its refresh token."""
    result = await svc.sessions.login(uuid.uuid4().hex, commands.Login("acme", email, password))
    return result.tokens.refresh_token
