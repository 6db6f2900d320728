"""Alembic environment of svc_procure (see kit.migrations)."""

from kit.migrations import run_env
from svc_procure.store.tables import metadata

run_env(metadata)
