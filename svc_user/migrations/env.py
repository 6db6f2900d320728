"""Alembic environment of svc_user (see kit.migrations)."""

from kit.migrations import run_env
from svc_user.store import metadata

run_env(metadata)
