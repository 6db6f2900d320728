"""Each service's migrations build exactly the schema its store declares, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from kit import migrations, services
from kit.db import sync_url
from tests import harness


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'schema.db'}"
    else:
        with harness.postgres_database() as url:
            yield url


@pytest.mark.parametrize("service", services.available())
def test_migrations_match_the_store(service: str, empty_database: str) -> None:
    migrations.upgrade(service, empty_database)
    metadata = services.store_metadata(service)

    engine = create_engine(sync_url(empty_database))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"version_table": f"alembic_version_{service}", "include_name": migrations.include_name},
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == []


@pytest.mark.parametrize("service", services.available())
def test_migrating_twice_leaves_the_database_at_head(service: str, empty_database: str) -> None:
    migrations.upgrade(service, empty_database)
    migrations.upgrade(service, empty_database)

    head = ScriptDirectory.from_config(migrations.config(service, empty_database)).get_current_head()
    engine = create_engine(sync_url(empty_database))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": f"alembic_version_{service}"})
            current = context.get_current_revision()
    finally:
        engine.dispose()

    assert current == head is not None
