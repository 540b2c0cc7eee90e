"""Full-text search of items: the queries over the store's index, on SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, column, func, literal_column, text

from mailgate.store import FTS_TABLE, FTS_UPSERT, INDEX_DDL, MAX_WORD, PG_INDEX, terms, tokens

__all__ = [
    "FTS_TABLE",
    "FTS_UPSERT",
    "INDEX_DDL",
    "MAX_QUERY_TERMS",
    "MAX_WORD",
    "PG_INDEX",
    "fts_query",
    "matches",
    "query_terms",
    "terms",
    "tsquery",
]

#: A query uses at most this many terms (a pasted paragraph is still a fast query).
MAX_QUERY_TERMS = 32


def query_terms(query: str) -> list[str]:
    """The terms a search for ``query`` requires (all of them); operators and punctuation are dropped."""
    return tokens(query)[:MAX_QUERY_TERMS]


def tsquery(words: list[str]) -> str:
    """PostgreSQL ``to_tsquery`` text requiring every term, each quoted as a literal lexeme."""
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in words)


def fts_query(words: list[str]) -> str:
    """SQLite FTS5 ``MATCH`` text requiring every term, each quoted as a string."""
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


def matches(
    dialect: str, search_text: SQLColumnExpression[str], item_id: SQLColumnExpression[int], words: list[str]
) -> ColumnElement[bool]:
    """A WHERE condition: the item whose ``search_text`` column (and ``item_id``) has every term."""
    if dialect == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'"), search_text)
        return vector.op("@@")(func.to_tsquery(literal_column("'simple'"), tsquery(words)))
    hits = text("SELECT rowid FROM items_fts WHERE items_fts MATCH :fts_query")
    return item_id.in_(hits.bindparams(fts_query=fts_query(words)).columns(column("rowid")))
