"""Alembic environment of svc_stock (see kit.migrations)."""

from kit.migrations import run_env
from svc_stock.store.tables import metadata

run_env(metadata)
