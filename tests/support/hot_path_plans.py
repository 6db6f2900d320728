"""The server's plan counters of a statement the reservation hot path
prepared (kit.driver), read on that path's own connection: a prepared
statement belongs to its session."""

from __future__ import annotations

from kit.db import Database
from kit.driver import Statement

PLANS = Statement(
    "plans_of",
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %(name)s",
    {"name": "text"},
)


async def plans_of(db: Database, statement: Statement) -> tuple[int, int] | None:
    """(generic plans, custom plans) of `statement` on the hot path's
    connection; None if that connection never prepared it."""
    async with db.driver_transaction() as transaction:
        row = await transaction.run(PLANS, {"name": statement.name})
    return None if row is None else (int(row[0]), int(row[1]))
