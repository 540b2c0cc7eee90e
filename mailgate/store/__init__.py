"""Persistence: the SQLAlchemy models and the store the pipeline writes to."""

from mailgate.store.store import NewMessage, NewRevision, Repository, Store, StoredItem

__all__ = ["NewMessage", "NewRevision", "Repository", "Store", "StoredItem"]
