"""Loading rows fast: COPY with every column named (the column lists come from
the services' table modules), into tables whose keys and indexes are dropped
for the load and then created again from their own definitions, as bulk loads
into PostgreSQL are done; the schema afterwards is the one the migrations made."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Table

# Keys and foreign keys of, or referring to, the tables; foreign keys first.
CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE (conrelid = ANY(%(tables)s::regclass[]) AND contype IN ('p', 'u', 'f'))
   OR (confrelid = ANY(%(tables)s::regclass[]) AND contype = 'f')
ORDER BY contype = 'f' DESC, conname
"""
# Indexes of the tables that back no key.
INDEXES = """
SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index i
WHERE indrelid = ANY(%(tables)s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))
"""

# Statistics targets set on index columns (an expression's), kept with the index.
TARGETS = """
SELECT i.indexrelid::regclass::text, a.attnum, a.attstattarget
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indexrelid
WHERE i.indrelid = ANY(%(tables)s::regclass[]) AND a.attstattarget >= 0
"""

COLUMN_TYPES = (
    "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %(table)s::regclass AND attnum > 0"
)


def random_uuid(rng: random.Random) -> str:
    """A version 4 UUID, as str(uuid.uuid4()) gives, several times faster."""
    bits = rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@contextlib.contextmanager
def without_keys(conn: psycopg.Connection[Any], tables: Sequence[str]) -> Iterator[None]:
    """The tables without their keys and indexes while the block runs, then
    with the very same ones again (built in one pass each, and checked), and
    their columns' statistics targets."""
    names = {"tables": list(tables)}
    constraints = conn.execute(CONSTRAINTS, names).fetchall()
    indexes = conn.execute(INDEXES, names).fetchall()
    targets = conn.execute(TARGETS, names).fetchall()
    for table, name, _ in constraints:
        drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}")
        conn.execute(drop.format(sql.SQL(table), sql.Identifier(name)))
    for index, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))
    yield
    for _, definition in indexes:
        conn.execute(definition)
    for index, column, target in targets:
        alter = sql.SQL("ALTER INDEX {} ALTER COLUMN {} SET STATISTICS {}")
        conn.execute(alter.format(sql.SQL(index), sql.Literal(column), sql.Literal(target)))
    for table, name, definition in reversed(constraints):
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)
            )
        )


def copy_rows(conn: psycopg.Connection[Any], table: Table, rows: Iterable[Mapping[str, Any]]) -> int:
    """COPY `rows` into `table` (binary, every column named); the first row is
    checked against the table: no unknown column, no NOT NULL column left empty."""
    names = [column.name for column in table.columns]
    types = dict(conn.execute(COLUMN_TYPES, {"table": table.name}).fetchall())
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    count = 0
    with conn.cursor().copy(statement) as copy:
        copy.set_types([types[name] for name in names])
        for row in rows:
            if count == 0:
                check_row(table, row)
            copy.write_row([row[name] for name in names])
            count += 1
    return count


def check_row(table: Table, row: Mapping[str, Any]) -> None:
    unknown = set(row) - {column.name for column in table.columns}
    empty = [column.name for column in table.columns if not column.nullable and row.get(column.name) is None]
    if unknown or empty:
        raise ValueError(f"{table.name}: unknown columns {sorted(unknown)}, NOT NULL columns empty {empty}")
