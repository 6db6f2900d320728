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

A page of a search on PostgreSQL is read in a shape that has one good plan
whatever the planner guesses (`few_first`). Asked for "the first 50 matches
in SKU order", PostgreSQL picks between reading every match from the index
and sorting them, and walking the list's own index testing each row; it
picks from its estimate of how many rows match, which for a word it has no
statistics on is 2 % of the table: a word no variant has then walked all of
them (0.5 s at 100,000 variants), and keeping statistics large enough to
know better cost 10-13 ms of planning per search. So the matches are read
from the full-text index first, at most `FEW` of them; when that is all of
them they are sorted and one page is kept, in the same statement, and only a
word with more matches than that takes the list-order walk, where matches
are dense enough for it to stop early.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, Table, func, literal_column, select, text

# The most matches read from the full-text index and sorted for one page.
# 1,000 rows are a few milliseconds of index and heap reads; a word with
# more matches is common enough for the list-order walk to find a page fast.
FEW = 1000

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


def few_first(
    full: Select[Any],
    table: Table,
    where: Sequence[ColumnElement[bool]],
    order: Sequence[Column[Any]],
    limit: int,
) -> Select[Any]:
    """PostgreSQL: one page of the rows of `table` that satisfy `where`, in
    `order`, as `full` selects them, read through the full-text index when
    at most `FEW` rows match. Each row carries `matched`, the number of
    matches read (at most FEW + 1): above FEW the page is not the answer,
    and the caller walks the list in order instead. No rows: nothing matches.

    MATERIALIZED keeps the planner from pushing the page's order into the
    read of the matches, which would bring back the walk this avoids."""
    found = select(table.c.id, *order).where(*where).limit(FEW + 1).cte("found").prefix_with("MATERIALIZED")
    page = select(found).order_by(*(found.c[c.name] for c in order)).limit(limit).cte("page")
    matched = select(func.count()).select_from(found).scalar_subquery().label("matched")
    return (
        full.add_columns(matched)
        .join(page, page.c.id == table.c.id)
        .order_by(*(page.c[c.name] for c in order))
    )
