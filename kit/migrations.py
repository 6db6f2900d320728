"""Alembic, once per service: each service keeps its scripts in its
package's `migrations/` and its own version table, so services can share a
database in tests and still migrate independently."""

from __future__ import annotations

import logging

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool

from kit import services
from kit.db import ensure_sqlite_dir, sync_url

log = logging.getLogger(__name__)

# Fail fast instead of queueing behind a long transaction that holds a lock
# the migration needs (and blocking every query queued behind us).
LOCK_TIMEOUT = "5s"


def config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", services.migrations(service))
    cfg.set_main_option(
        "sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%")
    )
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    ensure_sqlite_dir(url)
    command.upgrade(config(service, url), revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    cfg = context.config
    service = cfg.attributes.get("service") or cfg.get_main_option("service") or "unknown"
    engine = create_engine(cfg.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=f"alembic_version_{service}",
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()
