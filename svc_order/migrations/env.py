"""Alembic environment of svc_order (see kit.migrations)."""

from kit.migrations import run_env
from svc_order.store import metadata

run_env(metadata)
