"""Running totals for /metrics, added to in the transaction of the work they count (no scans to read them)."""

from __future__ import annotations

import bisect
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mailgate.store.models import Counter

#: Upper bounds of the processing-time histogram, in seconds.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: Counter names: ``messages:<verdict>``, ``findings:<rule>``, ``replies:<final state>``, and the
#: histogram: ``latency:<i>`` (messages whose time fell in bucket i, not cumulative; i = len(buckets)
#: for longer), ``latency:count`` and ``latency:sum_us`` (microseconds).
MESSAGES, FINDINGS, REPLIES, LATENCY = "messages:", "findings:", "replies:", "latency:"
LATENCY_COUNT, LATENCY_SUM_US = "latency:count", "latency:sum_us"
_NAME_MAX = 160


def for_message(
    verdict: str, findings: Iterable[Mapping[str, Any]], processing_ms: float | None
) -> Tally[str]:
    """What filing one message adds: its verdict, each finding's rule, its processing time."""
    added: Tally[str] = Tally({MESSAGES + verdict: 1})
    for finding in findings:
        rule = finding.get("rule")
        if isinstance(rule, str) and rule:
            added[(FINDINGS + rule)[:_NAME_MAX]] += 1
    if processing_ms is not None:
        added[f"{LATENCY}{bisect.bisect_left(LATENCY_BUCKETS, processing_ms / 1000)}"] += 1
        added[LATENCY_COUNT] += 1
        added[LATENCY_SUM_US] += round(processing_ms * 1000)
    return added


async def add(session: AsyncSession, amounts: Mapping[str, int]) -> None:
    """Add ``amounts`` to the counters, in ``session``'s transaction (rows in name order, so that two
    writers lock them in the same order)."""
    rows = [{"name": name, "value": value} for name, value in sorted(amounts.items()) if value]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Counter).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + statement.excluded.value}
    )
    await session.execute(statement)


async def read(session: AsyncSession) -> dict[str, int]:
    """Every counter by name."""
    return {name: int(value) for name, value in await session.execute(select(Counter.name, Counter.value))}
