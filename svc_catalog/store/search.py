"""Free-text search: "every query word starts some word of the row's
`search_text`", served by an index on both databases.

`search_text` holds the row's words case-folded, each once, separated by
spaces (`domain.search_text`), so the rule is a word-prefix match. Both
databases have a full-text index that answers exactly that:

- PostgreSQL: a GIN index on `to_tsvector('simple', search_text)` (migration
  0003), queried with `to_tsquery('simple', 'w1:* & w2:*')`. The 'simple'
  configuration only lower-cases, with no stemming or stop words, so a
  lexeme is a word as `search_text` holds it. Chosen over `pg_trgm` because
  a prefix query is the rule itself (a trigram index answers substrings and
  needs a recheck of every candidate), and it needs no extension.
- SQLite: an FTS5 table per searched table (`products_fts`, `variants_fts`,
  external content kept by triggers; migration 0003), queried with
  `"w1"* "w2"*`: prefix queries, with prefix indexes of 1 to 3 characters.

Query words come from `domain.words`: runs of letters and digits only, so
they need no quoting beyond what is written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, literal_column, select, text

# The same expression as the index (migration 0003): the planner matches it
# textually, so the configuration is a literal, not a parameter.
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def matches(table: Table, words: Sequence[str], dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE clauses for "every word starts a word of `table`'s
    search_text" (none when there are no words)."""
    if not words:
        return []
    if dialect == "postgresql":
        vector = func.to_tsvector(_SIMPLE, table.c.search_text)
        return [vector.op("@@")(func.to_tsquery(_SIMPLE, " & ".join(f"{w}:*" for w in words)))]
    fts = f"{table.name}_fts"
    found: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(fts))
        .where(literal_column(fts).op("MATCH")(" ".join(f'"{w}"*' for w in words)))
    )
    return [literal_column(f"{table.name}.rowid").in_(found)]
