"""The `stockmesh` command: run services, migrate, issue certificates, and
whatever admin commands the services add (e.g. `create-admin`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib.metadata import entry_points

from kit import logs, migrations, server, services, supervisor
from kit.mesh import commands as mesh_commands
from kit.mesh.files import PolicyError
from kit.settings import Settings, SettingsError, service_account


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stockmesh", description="stockmesh services and tools")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="run every service locally with mTLS (Ctrl-C stops)")
    p.add_argument(
        "services", nargs="*", help=f"only these of {', '.join(services.available())} (default: all)"
    )

    p = sub.add_parser("serve", help="run one service in the foreground")
    p.add_argument("service", choices=services.available())

    p = sub.add_parser("migrate", help="apply migrations (default: every service)")
    p.add_argument("services", nargs="*", help="only these services")

    p = sub.add_parser("certs", help="issue the dev CA and certificates")
    p.add_argument(
        "accounts", nargs="*", help="service accounts (default: every service, gateway, dev-client)"
    )

    mesh_commands.add_commands(sub)
    for name in services.available():
        hook = getattr(services.app(name), "add_commands", None)
        if hook is not None:
            hook(sub)
    for command in entry_points(group="stockmesh.commands"):
        try:
            hook = command.load()
        except ImportError as exc:
            # A tool that cannot load must not stop the services from starting.
            print(f"stockmesh: command {command.name!r} unavailable: {exc}", file=sys.stderr)
            continue
        hook(sub)

    args = parser.parse_args(argv)
    unknown = [s for s in getattr(args, "services", None) or [] if s not in services.available()]
    if unknown:
        parser.error(
            f"no such service here: {', '.join(unknown)}; available: {', '.join(services.available())}"
        )
    try:
        return _dispatch(args)
    except (SettingsError, PolicyError) as exc:
        # A policy the runtime cannot enforce as written stops a service from
        # starting, named by file and field (`stockmesh mesh check` lists all).
        print(f"stockmesh: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        settings = Settings.from_env(args.service)
        server.run(services.app(args.service).build, settings)
        return 0
    logs.configure("cli", os.environ.get("STOCKMESH_LOG_LEVEL", "INFO"), "text")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "up":
        return supervisor.up(args.services or None)
    if args.command == "migrate":
        for name in args.services or services.available():
            migrations.upgrade(name, Settings.from_env(name).database_url)
            print(f"{services.package(name)}: migrated")
        return 0
    if args.command == "certs":
        settings = Settings.from_env(services.available()[0])  # any: they share the TLS folder
        accounts = args.accounts or [
            *(service_account(n) for n in services.available()),
            "gateway",
            supervisor.DEV_CLIENT,
        ]
        supervisor.issue_certificates(settings, accounts)
        print(f"certificates in {settings.tls_dir}: {', '.join(accounts)}")
        return 0
    handler = getattr(args, "handler", None)
    if handler is None:
        raise SystemExit(f"unknown command {args.command}")
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
