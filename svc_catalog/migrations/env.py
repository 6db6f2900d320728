"""Alembic environment of svc_catalog (see kit.migrations)."""

from kit.migrations import run_env
from svc_catalog.store import metadata

run_env(metadata)
