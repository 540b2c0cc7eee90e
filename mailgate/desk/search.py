"""Full-text search of items: Chinese as character bigrams, other words whole, on both databases."""

from __future__ import annotations

import itertools
import unicodedata

from sqlalchemy import ColumnElement, SQLColumnExpression, column, func, literal_column, text

from mailgate.mail.folding import to_simplified

#: The SQLite FTS5 table over ``items.search_text`` (rowid = items.id).
FTS_TABLE = "items_fts"
#: The PostgreSQL GIN index over ``to_tsvector('simple', items.search_text)``.
PG_INDEX = "ix_items_search"
#: Statements that create the index, per dialect (``Store.create_schema``; the migration has its own).
INDEX_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_text)",),
    "postgresql": (
        f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON items USING gin (to_tsvector('simple', search_text))",
    ),
}
#: Longer runs of letters or digits (encoded blobs, not words) are not indexed.
MAX_WORD = 64
#: A query uses at most this many terms (a pasted paragraph is still a fast query).
MAX_QUERY_TERMS = 32

_HAN_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3134F),
)


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return ch == "〇" or (ch.isalnum() and any(low <= code <= high for low, high in _HAN_RANGES))


def _tokens(text: str) -> list[str]:
    folded = to_simplified(unicodedata.normalize("NFKC", text))
    out: list[str] = []
    run: list[str] = []  # consecutive Han characters
    word: list[str] = []  # consecutive other letters and digits

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        out.extend(a + b for a, b in itertools.pairwise(run))
        run.clear()
        if word and len(word) <= MAX_WORD:
            # casefold may add combining marks ("İ" → "i̇"): a term holds letters and digits only.
            out.append("".join(c for c in "".join(word).casefold() if c.isalnum()))
        word.clear()

    for ch in folded:
        if _is_han(ch):
            if word:
                flush()
            run.append(ch)
        elif ch.isalnum():
            if run:
                flush()
            word.append(ch)
        else:
            flush()
    flush()
    return [t for t in dict.fromkeys(out) if t]


def terms(text: str) -> str:
    """The search terms of ``text``, space-separated: overlapping bigrams of consecutive Chinese
    characters (a lone character as itself) and whole other words, lower-cased, after width and
    Traditional→Simplified folding. ``terms("天河區 GDP") == "天河 河区 gdp"``."""
    return " ".join(_tokens(text))


def query_terms(query: str) -> list[str]:
    """The terms a search for ``query`` requires (all of them); operators and punctuation are dropped."""
    return _tokens(query)[:MAX_QUERY_TERMS]


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


#: Keeps the SQLite FTS5 table in step with ``items.search_text`` (one row per item, by rowid).
FTS_UPSERT = text("INSERT OR REPLACE INTO items_fts(rowid, search_text) VALUES (:id, :search_text)")
