"""Schema migrations with Alembic: upgrade a database, and compare it with the models."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from mailgate.errors import StoreError
from mailgate.store._search import FTS_TABLE, PG_INDEX
from mailgate.store.models import Base

#: The Alembic scripts: top-level ``migrations/`` of the source tree (the image keeps the tree).
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating it, for SQLite)."""
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        command.upgrade(alembic_config(url), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate {url}: {exc}") from exc


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Whether autogenerate compares ``obj``: not the search index, which the models do not describe
    (SQLite's FTS5 table and its shadow tables, PostgreSQL's expression index)."""
    if type_ == "table" and name is not None:
        return name != FTS_TABLE and not name.startswith(f"{FTS_TABLE}_")
    return not (type_ == "index" and name == PG_INDEX)


def pending_changes(url: str) -> list[Any]:
    """Differences between the migrated database at ``url`` and the models (empty when in step)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())
