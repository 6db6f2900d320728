"""Wires svc_user: database, units of work, use cases, servicers, token verification."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grpc import aio

from kit import auth, errors, migrations
from kit.db import Database
from kit.server import Service
from kit.settings import Settings, SettingsError, seconds
from kit.uow import Units
from stockmesh.user.v1 import user_pb2_grpc
from svc_user import commands, service, store
from svc_user.ports import UserUnit
from svc_user.usecases.keys import KeyRing
from svc_user.usecases.sessions import Sessions
from svc_user.usecases.tenants import Tenancy
from svc_user.usecases.users import UserAccounts

NAME = "user"
log = logging.getLogger(__name__)


def clock() -> datetime:
    return datetime.now(UTC)


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=settings.pool_size(10))
    units = store.units(db, clock)
    access_ttl = timedelta(seconds=seconds(settings, "ACCESS_TOKEN_SECONDS", 900))
    keys = key_ring(settings, units, access_ttl)
    try:
        await keys.start()
    except (OSError, ValueError) as exc:
        raise SettingsError(f"STOCKMESH_USER_SIGNING_KEY_FILE={keys.key_file}: {exc}") from None
    sessions = Sessions(
        units,
        access_ttl=access_ttl,
        refresh_ttl=timedelta(seconds=seconds(settings, "REFRESH_TOKEN_SECONDS", 30 * 86400)),
        signer=keys.signing_key,
    )

    async def local_jwks() -> list[auth.Jwk]:
        return await keys.jwks()

    # svc_user verifies its own tokens the way every service does: from the
    # JWKS, here read from its own database instead of over the network.
    verifier = auth.TokenVerifier(auth.KeySet(local_jwks), leeway_seconds=int(settings.token_leeway_seconds))

    def register(server: aio.Server) -> None:
        user_pb2_grpc.add_AuthServiceServicer_to_server(service.AuthServicer(sessions, keys), server)
        user_pb2_grpc.add_UserServiceServicer_to_server(service.UserServicer(UserAccounts(units)), server)
        user_pb2_grpc.add_TenantServiceServicer_to_server(service.TenantServicer(Tenancy(units)), server)

    return Service(
        name=NAME,
        register=register,
        service_names=(service.AUTH, service.USER, service.TENANT),
        rules=service.RULES,
        db=db,
        idempotency_records=store.idempotency_records,
        verifier=verifier,
        loops=[("signing-key", seconds(settings, "KEY_RELOAD_SECONDS", 30), reloaded(keys))]
        if keys.key_file
        else [],
    )


def reloaded(keys: KeyRing) -> Callable[[], Awaitable[None]]:
    """A loop body: a mounted secret changes in place (the kubelet swaps the file), so it is
    read again every period; a new key signs from then on."""

    async def body() -> None:
        if await keys.reload():
            log.info("signing key changed: %s signs from now on", keys.held.kid if keys.held else "?")

    return body


def key_ring(settings: Settings, units: Units[UserUnit], access_ttl: timedelta) -> KeyRing:
    """The signing keys: from STOCKMESH_USER_SIGNING_KEY_FILE (a mounted secret) when set, else
    the database's own. A retired key stays published for the tokens' lifetime, the verifiers'
    leeway, and STOCKMESH_USER_KEY_GRACE_SECONDS for a changed secret to reach every replica."""
    named = settings.extra.get("STOCKMESH_USER_SIGNING_KEY_FILE", "")
    grace = timedelta(seconds=seconds(settings, "KEY_GRACE_SECONDS", 300))
    verify_for = access_ttl + timedelta(seconds=settings.token_leeway_seconds) + grace
    return KeyRing(units, verify_for=verify_for, key_file=Path(named) if named else None)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """svc_user's admin commands for the `stockmesh` CLI."""
    p = sub.add_parser("create-admin", help="create a tenant and its first admin user")
    p.add_argument("--tenant", help="tenant slug, e.g. acme (prompted if omitted)")
    p.add_argument("--tenant-name", default="", help="display name (default: the slug)")
    p.add_argument("--email", help="the admin's email (prompted if omitted)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    p.set_defaults(handler=_create_admin)
    p = sub.add_parser("rotate-signing-key", help="sign new access tokens with a fresh key")
    p.set_defaults(handler=_rotate_key)


def _create_admin(args: argparse.Namespace) -> int:
    settings = Settings.from_env(NAME)
    # Prompts need a terminal; from a script or a pipe they would fail with a
    # traceback (or read the password as the tenant), so say what to pass.
    missing = [flag for flag, given in (("--tenant", args.tenant), ("--email", args.email)) if not given]
    if not sys.stdin.isatty() and (missing or not args.password_stdin):
        needs = [*missing, *([] if args.password_stdin else ["--password-stdin (the password on stdin)"])]
        print(
            f"create-admin: no terminal to prompt on; pass {', '.join(needs)}, e.g.\n"
            '  echo "$PW" | stockmesh create-admin --tenant acme --email a@acme.test --password-stdin',
            file=sys.stderr,
        )
        return 2
    try:
        tenant = args.tenant or input("tenant slug: ").strip()
        email = args.email or input("admin email: ").strip()
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("admin password: ")
            if getpass.getpass("again: ") != password:
                print("passwords differ", file=sys.stderr)
                return 1
    except (EOFError, KeyboardInterrupt):
        print("\ncreate-admin: cancelled", file=sys.stderr)
        return 1
    migrations.upgrade(NAME, settings.database_url)

    async def create() -> None:
        db = Database(settings.database_url)
        try:
            cmd = commands.CreateTenant(tenant, args.tenant_name, email, password)
            created, admin = await Tenancy(store.units(db, clock)).create_tenant(cmd)
            print(f"created tenant {created.slug} ({created.id}) with admin {admin.email}")
        finally:
            await db.dispose()

    try:
        asyncio.run(create())
    except errors.ServiceError as exc:
        detail = "; ".join(f"{v.field}: {v.description}" for v in getattr(exc, "violations", ()))
        print(
            f"refused: {exc.message}" + (f" ({detail})" if detail and detail not in exc.message else ""),
            file=sys.stderr,
        )
        return 1
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    settings = Settings.from_env(NAME)

    async def rotate() -> str:
        db = Database(settings.database_url)
        try:
            access_ttl = timedelta(seconds=seconds(settings, "ACCESS_TOKEN_SECONDS", 900))
            return await key_ring(settings, store.units(db, clock), access_ttl).rotate_signing_key()
        finally:
            await db.dispose()

    print(f"new signing key {asyncio.run(rotate())}")
    return 0
