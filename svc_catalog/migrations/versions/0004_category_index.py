"""category index: products filtered by category served by an index

A category filter matches the category itself and every category below it
("Footwear" matches "Footwear/Running"): `category = c OR category LIKE
'c/%'`. The list was filtered along its display-name order, so a small
category, or a page deep into one, read most of the catalog. With this
index an exact category is read in display-name order from the index, and a
category tree is read from its two ranges and sorted.

PostgreSQL: `text_pattern_ops`, so the LIKE prefix uses the index whatever
the database's collation; built CONCURRENTLY, outside the migration's
transaction, so the catalog stays writable while it builds. SQLite: a plain
index (its LIKE ignores case, so the index serves the exact category).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

from alembic import op

from kit.migrations import create_index, drop_index

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_products_category_tree"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    category = "category text_pattern_ops" if postgresql else "category"
    create_index(INDEX, "products", ["tenant_id", category, "sort_key", "id"])


def downgrade() -> None:
    drop_index(INDEX, "products")
