"""Alembic environment of svc_procure (see kit.migrations)."""

from kit.migrations import run_env
from svc_procure.store import metadata

run_env(metadata)
