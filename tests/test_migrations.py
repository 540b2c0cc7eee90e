"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command

from mailgate.store.migrate import alembic_config, pending_changes, upgrade


def test_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)
    assert pending_changes(database_url) == []


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    upgrade(database_url)
    command.downgrade(alembic_config(database_url), "base")
    assert pending_changes(database_url) != []
    upgrade(database_url)
    assert pending_changes(database_url) == []
