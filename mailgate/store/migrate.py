"""Schema migrations with Alembic: upgrade a database, and compare it with the models."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine

from mailgate.errors import StoreError
from mailgate.store._errors import translate
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
            folder = Path(path).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the database folder {folder}: {exc.strerror}") from None
    try:
        command.upgrade(alembic_config(url), revision)
    except CommandError as exc:  # an unknown revision, a broken script directory
        raise StoreError(f"cannot migrate {redacted(url)}: {' '.join(str(exc).split())[:200]}") from None
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise type(error)(f"cannot migrate {redacted(url)}: {error}") from None


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "the database"


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

    try:
        return asyncio.run(run())
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from None
