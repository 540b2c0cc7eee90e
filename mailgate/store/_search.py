"""The items' search index: its terms (Chinese as character bigrams, other words whole) and its DDL."""

from __future__ import annotations

import itertools
import unicodedata

from sqlalchemy import text

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
#: Keeps the SQLite FTS5 table in step with ``items.search_text`` (one row per item, by rowid).
FTS_UPSERT = text("INSERT OR REPLACE INTO items_fts(rowid, search_text) VALUES (:id, :search_text)")
#: Longer runs of letters or digits (encoded blobs, not words) are not indexed.
MAX_WORD = 64

_HAN_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3134F),
)


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return ch == "〇" or (ch.isalnum() and any(low <= code <= high for low, high in _HAN_RANGES))


def tokens(value: str) -> list[str]:
    """The distinct search terms of ``value``, in order of first appearance (see ``terms``)."""
    folded = to_simplified(unicodedata.normalize("NFKC", value))
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


def terms(value: str) -> str:
    """The search terms of ``value``, space-separated: overlapping bigrams of consecutive Chinese
    characters (a lone character as itself) and whole other words, lower-cased, after width and
    Traditional→Simplified folding. ``terms("天河區 GDP") == "天河 河区 gdp"``."""
    return " ".join(tokens(value))
