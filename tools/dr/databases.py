"""The drill's PostgreSQL databases: created per run, dumped with pg_dump
(custom format) and restored with pg_restore, as an operator would."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from kit import services

ADMIN_URL = os.environ.get("STOCKMESH_DR_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")

# Callers before the services they call: an order (or a receipt) in a backup was
# reserved (or booked) before its own service's snapshot, so before the later
# snapshot of svc_stock too. Taken the other way round, a restored order could
# name a reservation that the restored svc_stock never saw.
BACKUP_ORDER = ("user", "catalog", "order", "procure", "stock")


def _tool(name: str) -> str:
    """PostgreSQL's client tools, from PATH (Debian's postgresql-client)."""
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not on PATH: install PostgreSQL's client tools")
    return found


@dataclass(frozen=True)
class Dump:
    service: str
    path: Path
    started: float  # wall clock: the snapshot is taken when pg_dump starts
    seconds: float
    size: int  # bytes


def url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def create(prefix: str) -> dict[str, str]:
    """A new empty database per service: service -> URL."""
    names = {service: f"{prefix}_{service}" for service in services.available()}
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    return {service: url(name) for service, name in names.items()}


def drop(prefix: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}\\_%",))
        for (name,) in found.fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dump(service: str, source: str, directory: Path) -> Dump:
    path = directory / f"{service}.dump"
    started, clock = time.time(), time.monotonic()
    subprocess.run([_tool("pg_dump"), "--format=custom", "--file", str(path), source], check=True)
    return Dump(service, path, started, time.monotonic() - clock, path.stat().st_size)


def restore(backup: Dump, target: str) -> float:
    """Restores into an empty database; answers the seconds it took."""
    clock = time.monotonic()
    subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", target, str(backup.path)],
        check=True,
    )
    return time.monotonic() - clock
