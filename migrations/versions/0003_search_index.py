"""search index: FTS5 table on SQLite, GIN index on PostgreSQL; items' search text filled in

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailgate.desk.search import terms

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE items_fts USING fts5(search_text)")
    _backfill(bind)
    if bind.dialect.name == "sqlite":
        op.execute("INSERT INTO items_fts(rowid, search_text) SELECT id, search_text FROM items")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_items_search ON items USING gin (to_tsvector('simple', search_text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE items_fts")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_items_search")


def _backfill(bind: sa.Connection) -> None:
    """Every item's search text from its latest revision: title, 正文 and attachment text."""
    query = sa.text(
        "SELECT r.item_id, r.title, r.body, r.attachment_text FROM revisions r WHERE r.item_id > :after "
        "AND r.number = (SELECT max(number) FROM revisions WHERE item_id = r.item_id) "
        "ORDER BY r.item_id LIMIT :batch"
    )
    update = sa.text("UPDATE items SET search_text = :search_text WHERE id = :id")
    after = 0
    while True:
        rows = bind.execute(query, {"after": after, "batch": _BATCH}).all()
        if not rows:
            return
        bind.execute(
            update,
            [
                {"id": item_id, "search_text": terms(f"{title}\n{body}\n{attachment or ''}")}
                for item_id, title, body, attachment in rows
            ],
        )
        after = rows[-1][0]
