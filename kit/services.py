"""Which services exist in this installation, and how to reach each one's app module.

A service registers itself in the `stockmesh.services` entry-point group
(pyproject.toml): its name and its `app` module, which has
`async build(settings)`. Its package declares its default ports
(`GRPC_PORT`, `METRICS_PORT`) and holds `store` (the tables its migrations
must match) and `migrations/`. The runtime learns the packages
from that registry and never names one, so the layer check's rule that kit
knows no service holds without exception.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from sqlalchemy import MetaData

GROUP = "stockmesh.services"


@cache
def _registry() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def available() -> list[str]:
    """The registered services, in start order: by default gRPC port, which
    puts svc_user first (the others fetch its signing keys)."""
    return sorted(_registry(), key=lambda name: (ports(name)[0], name))


@cache
def ports(name: str) -> tuple[int, int]:
    """A service's default (gRPC, metrics) ports on one machine."""
    declared = importlib.import_module(package(name))
    return int(declared.GRPC_PORT), int(declared.METRICS_PORT)


def package(name: str) -> str:
    """The Python package of a registered service, e.g. `svc_stock`."""
    try:
        module: str = _registry()[name].module
    except KeyError:
        raise LookupError(f"no service {name!r} is registered in {GROUP}") from None
    return module.rpartition(".")[0] or module


def app(name: str) -> ModuleType:
    return importlib.import_module(f"{package(name)}.app")


def store_metadata(name: str) -> MetaData:
    """The SQLAlchemy metadata a service's migrations must match."""
    metadata = importlib.import_module(f"{package(name)}.store").metadata
    assert isinstance(metadata, MetaData)
    return metadata


def migrations(name: str) -> str:
    """Where a service's Alembic scripts are, as `package:folder`."""
    return f"{package(name)}:migrations"
