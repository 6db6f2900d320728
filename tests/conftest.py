"""Shared fixtures: certificates, databases on both backends, svc_user running
as a real process with mTLS, and tenants to test in."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from kit.db import Database
from stockmesh.user.v1 import user_pb2, user_pb2_grpc
from svc_user import app, commands, store
from svc_user.usecases.tenants import Tenancy
from tests import harness

PASSWORD = "Correct-Horse-9-Battery"
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harness.issue_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Stacks:
    """Service processes started once per test session and backend, on demand.

    Tests that hold for both databases take the parametrized fixtures (`user_service`,
    ...); tests that are about PostgreSQL's concurrency ask for its stack directly.
    """

    def __init__(self, tls_dir: Path, factory: pytest.TempPathFactory) -> None:
        self.tls_dir = tls_dir
        self.factory = factory
        self.started: dict[tuple[str, str], harness.ServiceProcess] = {}
        self.cleanups = contextlib.ExitStack()

    def database(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.factory.mktemp('sqlite') / f'{name}.db'}"
        return self.cleanups.enter_context(harness.postgres_database())

    def service(
        self, name: str, backend: str, env: dict[str, str] | None = None, *, variant: str = ""
    ) -> harness.ServiceProcess:
        """The service `name` on `backend`, started on first use; a `variant`
        is a separate process with its own database (e.g. other settings)."""
        key = (f"{name}{variant}", backend)
        if key not in self.started:
            home = self.factory.mktemp(f"{name}{variant}-{backend}")
            # Small pools: a session keeps some twenty processes on one
            # PostgreSQL, whose connections are limited (100 by default).
            env = {"STOCKMESH_DATABASE_POOL_SIZE": "3", **(env or {})}
            process = harness.ServiceProcess(name, home, self.tls_dir, self.database(backend, name), env=env)
            self.cleanups.callback(process.stop)
            self.started[key] = process.start()
        return self.started[key]

    def user(self, backend: str) -> harness.ServiceProcess:
        return self.service("user", backend)

    def close(self) -> None:
        self.cleanups.close()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own on each backend, empty: a SQLite file,
    then a PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with harness.postgres_database() as found:
            yield found


@pytest.fixture(scope="session")
def stacks(tls_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stacks]:
    started = Stacks(tls_dir, tmp_path_factory)
    yield started
    started.close()


@pytest.fixture(scope="session")
def user_service(stacks: Stacks, backend: str) -> harness.ServiceProcess:
    return stacks.user(backend)


@dataclass
class Tenant:
    """A fresh tenant with its admin, and a channel to svc_user."""

    slug: str
    admin_email: str
    channel: grpc.Channel

    @property
    def auth(self) -> user_pb2_grpc.AuthServiceStub:
        return user_pb2_grpc.AuthServiceStub(self.channel)

    @property
    def users(self) -> user_pb2_grpc.UserServiceStub:
        return user_pb2_grpc.UserServiceStub(self.channel)

    @property
    def tenants(self) -> user_pb2_grpc.TenantServiceStub:
        return user_pb2_grpc.TenantServiceStub(self.channel)

    def login(self, email: str | None = None, password: str = PASSWORD) -> user_pb2.LoginResponse:
        request = user_pb2.LoginRequest(
            request_id=new_id(), tenant=self.slug, email=email or self.admin_email, password=password
        )
        response: user_pb2.LoginResponse = self.auth.Login(request, timeout=10)
        return response

    def bearer(self, email: str | None = None, password: str = PASSWORD) -> list[tuple[str, str]]:
        return auth_metadata(self.login(email, password).tokens.access_token)

    def add_user(self, role: int, email: str | None = None) -> str:
        """Creates a user with `role` (as the admin); returns the email."""
        email = email or f"{uuid.uuid4().hex[:8]}@{self.slug}.test"
        self.users.CreateUser(
            user_pb2.CreateUserRequest(
                request_id=new_id(), user=user_pb2.User(email=email, password=PASSWORD, roles=[role])
            ),
            metadata=self.bearer(),
            timeout=10,
        )
        return email


def new_id() -> str:
    return str(uuid.uuid4())


def auth_metadata(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def create_tenant(database_url: str, slug: str | None = None) -> tuple[str, str]:
    """A tenant and its admin, made the way `stockmesh create-admin` makes them."""
    slug = slug or f"t-{uuid.uuid4().hex[:10]}"
    email = f"admin@{slug}.test"

    async def create() -> None:
        db = Database(database_url)
        try:
            tenancy = Tenancy(store.units(db, app.clock))
            await tenancy.create_tenant(commands.CreateTenant(slug, slug.upper(), email, PASSWORD))
        finally:
            await db.dispose()

    harness.run_async(create)
    return slug, email


@pytest.fixture
def tenant(user_service: harness.ServiceProcess) -> Iterator[Tenant]:
    slug, email = create_tenant(user_service.database_url)
    with user_service.channel() as channel:
        yield Tenant(slug, email, channel)


@pytest.fixture
def other_tenant(user_service: harness.ServiceProcess) -> Iterator[Tenant]:
    slug, email = create_tenant(user_service.database_url)
    with user_service.channel() as channel:
        yield Tenant(slug, email, channel)
