"""Which services exist in this checkout, and how to reach each one's app module.

A service is a package `svc_<name>` whose `app` module has `async build(settings)`.
The runtime finds them by name, so it never imports a service's domain itself.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from sqlalchemy import MetaData

from kit.settings import SERVICES


def available() -> list[str]:
    """The services of SERVICES that are implemented here (they have an app
    module), in start order."""
    return [
        name
        for name in SERVICES
        if importlib.util.find_spec(f"svc_{name}") is not None
        and importlib.util.find_spec(f"svc_{name}.app") is not None
    ]


def app(name: str) -> ModuleType:
    return importlib.import_module(f"svc_{name}.app")


def store_metadata(name: str) -> MetaData:
    """The SQLAlchemy metadata a service's migrations must match."""
    metadata = importlib.import_module(f"svc_{name}.store").metadata
    assert isinstance(metadata, MetaData)
    return metadata
