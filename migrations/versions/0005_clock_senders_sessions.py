"""revisions.author, outbox recipient_key and audience, users.session_version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=128), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_key", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("audience", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_outbox_key_created", ["recipient_key", "created_at"], unique=False)
        batch_op.create_index("ix_outbox_audience_due", ["audience", "next_attempt_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    # Replies already on file count for the rate limits from the first day: keyed by their mailbox, and
    # addressed to an officer when the address is registered.
    op.execute(
        """
        UPDATE outbox SET recipient_key = lower(recipient),
            audience = CASE
                WHEN EXISTS (SELECT 1 FROM officers WHERE lower(officers.email) = lower(outbox.recipient))
                THEN 'officer' ELSE 'stranger' END
        WHERE kind <> 'alert'
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_audience_due")
        batch_op.drop_index("ix_outbox_key_created")
        batch_op.drop_column("audience")
        batch_op.drop_column("recipient_key")
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_column("author")
