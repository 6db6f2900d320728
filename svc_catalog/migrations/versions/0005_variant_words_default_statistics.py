"""variant words at the default statistics: a variant search no longer
depends on the planner's guess

Migration 0003 gave the variants' full-text index the largest statistics
sample, so that PostgreSQL would guess a rare word as rare and read it from
the index rather than walk every variant in SKU order. Planning a prefix
search reads that whole list of common words: 10-13 ms per search at
100,000 variants, where running it takes 0.1 ms. A search page now has one
plan whatever the guess (`svc_catalog/store/search.py`, `few_first`), so the
index goes back to the default sample and is analysed again at once, rather
than at autovacuum's next pass, so the next plans are cheap. SQLite has
nothing to change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0003's figure, for the downgrade.
LARGEST_SAMPLE = 10000


def _statistics(target: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX variants_search ALTER COLUMN 1 SET STATISTICS {target}")
    # ANALYZE reads a sample of the table (30,000 rows at the default), and
    # takes no lock that blocks reads or writes.
    op.execute("ANALYZE variants")


def upgrade() -> None:
    _statistics(-1)


def downgrade() -> None:
    _statistics(LARGEST_SAMPLE)
