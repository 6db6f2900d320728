"""Wires svc_user: database, units of work, use cases, servicers, token verification."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime, timedelta

from grpc import aio

from kit import auth, errors, migrations
from kit.db import Database
from kit.server import Service
from kit.settings import Settings, seconds
from stockmesh.user.v1 import user_pb2_grpc
from svc_user import commands, service, store
from svc_user.usecases.keys import KeyRing
from svc_user.usecases.sessions import Sessions
from svc_user.usecases.tenants import Tenancy
from svc_user.usecases.users import UserAccounts

NAME = "user"


def clock() -> datetime:
    return datetime.now(UTC)


async def build(settings: Settings) -> Service:
    db = Database(settings.database_url, pool_size=settings.pool_size(10))
    units = store.units(db, clock)
    keys = KeyRing(units)
    await keys.ensure_signing_key()
    sessions = Sessions(
        units,
        access_ttl=timedelta(seconds=seconds(settings, "ACCESS_TOKEN_SECONDS", 900)),
        refresh_ttl=timedelta(seconds=seconds(settings, "REFRESH_TOKEN_SECONDS", 30 * 86400)),
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
    )


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
            return await KeyRing(store.units(db, clock)).rotate_signing_key()
        finally:
            await db.dispose()

    print(f"new signing key {asyncio.run(rotate())}")
    return 0
