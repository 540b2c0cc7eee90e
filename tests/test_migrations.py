"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

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


def test_replies_on_file_are_keyed_for_the_rate_limits(database_url: str) -> None:
    upgrade(database_url, "0004")
    asyncio.run(_execute(database_url, *OLD_ROWS))
    upgrade(database_url)
    found = asyncio.run(_execute(database_url, "SELECT recipient_key, audience FROM outbox ORDER BY id"))
    assert found == [("xxy@th.gz.gov.cn", "officer"), ("who@example.com", "stranger"), (None, None)]


#: An officer, one message and its replies as schema 0004 held them.
OLD_ROWS = (
    "INSERT INTO units (id, name, aliases, series) VALUES ('天河区', '天河区政府办', '[]', 'district')",
    "INSERT INTO officers (email, name, unit, active) VALUES ('xxy@th.gz.gov.cn', '张三', '天河区', true)",
    "INSERT INTO messages (mailbox, content_hash, size, subject, received_at, processed_at, verdict,"
    " findings) VALUES ('daily', 'h', 1, 's', '2026-11-26 02:00:00', '2026-11-26 02:00:00',"
    " 'rejected', '[]')",
    *(
        "INSERT INTO outbox (message_pk, kind, sender, recipient, reply_message_id, raw, status, attempts,"
        f" next_attempt_at, created_at) VALUES ((SELECT min(id) FROM messages), '{kind}', 'inf@gzy.gov.cn',"
        f" '{recipient}', '{n}@x', '', 'sent', 0, '2026-11-26 02:00:00', '2026-11-26 02:00:00')"
        for n, (kind, recipient) in enumerate(
            [("rejection", "XXY@th.gz.gov.cn"), ("rejection", "who@example.com"), ("alert", "ed@gzy.gov.cn")]
        )
    ),
)


async def _execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run ``statements`` in one transaction; the rows of the last one, if it returns any."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as db:
            result = None
            for statement in statements:
                result = await db.execute(text(statement))
            return [tuple(r) for r in result] if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()
