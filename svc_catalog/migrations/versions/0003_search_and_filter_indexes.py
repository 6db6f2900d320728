"""search indexes: free-text search served by a full-text index, and
filtered product lists served in their order

Products filtered by brand or by status, in display-name order, each get a
B-tree index that the keyset cursor positions.

PostgreSQL: a GIN index on `to_tsvector('simple', search_text)` for products
and variants, built CONCURRENTLY (outside the migration's transaction) so a
large catalog stays writable while it builds
(`kit.migrations.create_index`). Without GIN's pending list
(`fastupdate = off`): a search reads only the index, whenever VACUUM last
ran (a pending list of recent writes is scanned whole by every search: 5-9
ms at 100k products against 0.03-0.3 ms); catalog writes are rare next to
searches, and each pays for its own index update instead.

SQLite: an FTS5 table per searched table, with the table as its external
content (no second copy of the text) and triggers that keep it in step.
FTS5 addresses rows by rowid: a later migration that rebuilds `products` or
`variants` (SQLite's batch mode copies a table) must recreate these triggers
and run the 'rebuild' command.

Neither is declared in the store's metadata (SQLAlchemy cannot express
either on both databases); `kit.migrations.include_name` leaves objects
named `*_search` and `*_fts*` out of the schema comparison.

See svc_catalog/store/search.py for the queries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

from alembic import op

from kit.migrations import create_index, drop_index

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("products", "variants")
# The planner estimates how many rows a prefix query matches from the words
# ANALYZE found most common. A variant's search text is mostly words of its
# own (its SKU, its barcode) beside a few shared ones (colour, size), so at
# the default target only those few are kept, and a word that is none of
# them is guessed at 2 % of the table: PostgreSQL then walks the SKU index
# computing every row's words (0.5 s at 100k variants for a word no variant
# has) instead of asking this index (0.1 ms). The largest sample keeps the
# rarer words too (a target of 1000 is not enough), so the guess for an
# unseen word is small and for a common one large, and each gets its plan;
# ANALYZE reads up to 3M rows, and planning a search reads the longer list
# (a few ms). Products' words are shared enough for the default target.
VARIANT_WORDS_STATISTICS = 10000
FILTERS = {
    "ix_products_tenant_id_brand_key_sort_key_id": ["tenant_id", "brand_key", "sort_key", "id"],
    "ix_products_tenant_id_status_sort_key_id": ["tenant_id", "status", "sort_key", "id"],
}


def _sqlite_fts(table: str) -> list[str]:
    fts = f"{table}_fts"
    # remove_diacritics 0: search_text is case-folded, not stripped of
    # accents, and the query words are folded the same way.
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
        "tokenize='unicode61 remove_diacritics 0', prefix='1 2 3')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.rowid, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    for name, columns in FILTERS.items():
        create_index(name, "products", columns)
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            create_index(
                f"{table}_search",
                table,
                ["to_tsvector('simple'::regconfig, search_text)"],
                using="gin",
                storage="fastupdate = off",
            )
        op.execute(f"ALTER INDEX variants_search ALTER COLUMN 1 SET STATISTICS {VARIANT_WORDS_STATISTICS}")
        return
    for table in TABLES:
        for statement in _sqlite_fts(table):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            drop_index(f"{table}_search", table)
    else:
        for table in TABLES:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
    for name in FILTERS:
        drop_index(name, "products")
