"""outbox.claimed_by; counters, started from the messages and replies already on file

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: As in mailgate.store.counters when this migration was written (a migration stands alone).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FINAL = ("sent", "failed", "unknown", "suppressed")
_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    totals = _totals(op.get_bind())
    if totals:
        op.bulk_insert(counters, [{"name": name, "value": value} for name, value in sorted(totals.items())])


def _totals(connection: sa.Connection) -> Counter[str]:
    """The counters as if they had been kept from the start: one pass over what is on file."""
    totals: Counter[str] = Counter()
    for verdict, count in connection.execute(
        sa.text("SELECT verdict, count(*) FROM messages GROUP BY verdict")
    ):
        totals[f"messages:{verdict}"] += int(count)
    for status, count in connection.execute(sa.text("SELECT status, count(*) FROM outbox GROUP BY status")):
        if status in _FINAL:
            totals[f"replies:{status}"] += int(count)
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, findings, processing_ms FROM messages WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": _BATCH},
        ).all()
        if not rows:
            return totals
        for _, findings, processing_ms in rows:
            for finding in _findings(findings):
                rule = finding.get("rule") if isinstance(finding, dict) else None
                if isinstance(rule, str) and rule:
                    totals[f"findings:{rule}"[:160]] += 1
            if processing_ms is not None:
                totals[f"latency:{bisect.bisect_left(_BUCKETS, float(processing_ms) / 1000)}"] += 1
                totals["latency:count"] += 1
                totals["latency:sum_us"] += round(float(processing_ms) * 1000)
        last = rows[-1][0]


def _findings(value: Any) -> list[Any]:
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def downgrade() -> None:
    op.drop_table("counters")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
