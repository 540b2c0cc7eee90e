"""Fixtures shared by every test package: stores on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from mailgate.store import Store

PG_DSN = os.environ.get("MAILGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    """An empty store with the schema created, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("store") / "mailgate.db"
        store = Store(f"sqlite+aiosqlite:///{path}")
        await store.create_schema()
        yield store
        await store.close()
        return
    name = f"mailgate_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    store = Store(f"{base}/{name}")
    try:
        await store.create_schema()
        yield store
    finally:
        await store.close()
        admin = await asyncpg.connect(PG_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
