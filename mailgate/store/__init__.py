"""Persistence: the SQLAlchemy models and the store the pipeline writes to."""

from mailgate.store._search import FTS_TABLE, FTS_UPSERT, INDEX_DDL, MAX_WORD, PG_INDEX, terms, tokens
from mailgate.store.store import (
    NewMessage,
    NewReply,
    NewRevision,
    PastVerdict,
    Repository,
    Store,
    StoredItem,
)

__all__ = [
    "FTS_TABLE",
    "FTS_UPSERT",
    "INDEX_DDL",
    "MAX_WORD",
    "PG_INDEX",
    "NewMessage",
    "NewReply",
    "NewRevision",
    "PastVerdict",
    "Repository",
    "Store",
    "StoredItem",
    "terms",
    "tokens",
]
