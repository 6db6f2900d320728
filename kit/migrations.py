"""Alembic, once per service: each service keeps its scripts in its
package's `migrations/` and its own version table, so services can share a
database in tests and still migrate independently."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text

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


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether the schema comparison looks at an object: not at the search
    indexes that only migrations maintain (full-text indexes and FTS5 tables
    that SQLAlchemy's metadata cannot declare on both databases), named
    `*_search` (index) or `*_fts*` (table and its shadow tables)."""
    if name is None:
        return True
    if type_ == "index":
        return not name.endswith("_search")
    if type_ == "table":
        return "_fts" not in name
    return True


def run_env(metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    cfg = context.config
    service = cfg.attributes.get("service") or cfg.get_main_option("service") or "unknown"
    engine = create_engine(cfg.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            # A session setting: committed here, so the migrations' own
            # transaction is alembic's, which a migration may step out of
            # (`autocommit_block`, for CREATE INDEX CONCURRENTLY).
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=f"alembic_version_{service}",
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


def create_index(
    name: str,
    table: str,
    columns: Sequence[str],
    *,
    using: str = "btree",
    include: Sequence[str] = (),
    storage: str = "",
    where: str = "",
) -> None:
    """An index on a table that may be large. PostgreSQL: CREATE INDEX
    CONCURRENTLY, outside the migration's transaction, so the table stays
    writable while it builds; `columns` are SQL (a column or an expression),
    `include` columns stored for index-only scans, `storage` the index's
    storage parameters (`WITH (...)`), `where` the predicate of a partial
    index (SQL, on both databases). A build interrupted, or stopped by
    LOCK_TIMEOUT behind a long transaction, leaves an INVALID index:
    migrating again drops it and builds it anew. SQLite (one writer, no
    INCLUDE): a plain index of `columns`, which must then be column names."""
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, table, list(columns), sqlite_where=text(where) if where else None)
        return
    with op.get_context().autocommit_block():
        invalid = op.get_bind().execute(
            text(
                "SELECT 1 FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND NOT i.indisvalid"
            ),
            {"name": name},
        )
        if invalid.first() is not None:
            op.execute(f"DROP INDEX CONCURRENTLY {name}")
        covering = f" INCLUDE ({', '.join(include)})" if include else ""
        with_storage = f" WITH ({storage})" if storage else ""
        partial = f" WHERE {where}" if where else ""
        op.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"USING {using} ({', '.join(columns)}){covering}{with_storage}{partial}"
        )


def drop_index(name: str, table: str) -> None:
    """PostgreSQL: DROP INDEX CONCURRENTLY, outside the migration's
    transaction; SQLite: DROP INDEX."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table)
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
