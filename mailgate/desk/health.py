"""Health of the daemon as the store records it: for /healthz, the status page and Prometheus /metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select, text

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.errors import StoreError
from mailgate.kinds import Inbox
from mailgate.store import Store
from mailgate.store.models import Failure, Heartbeat, Message, Outbox

#: Outbox states a reply ends in (the counter) and passes through (the gauge).
FINAL_REPLY_STATES: tuple[str, ...] = ("sent", "failed", "unknown", "suppressed")
OPEN_REPLY_STATES: tuple[str, ...] = ("pending", "sending")
#: Upper bounds of the processing-time histogram, in seconds.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class InboxStatus:
    """One inbox watcher as its last heartbeat left it."""

    name: str
    connected: bool
    last_beat: dt.datetime | None
    age_seconds: float | None
    handled: int | None  # messages filed in the last pass
    waiting: int | None  # messages the last pass left in the mailbox (to retry)
    error: str | None
    up: bool  # connected, and reported within the allowed silence


@dataclass(frozen=True, slots=True)
class Health:
    checked_at: dt.datetime
    database: bool
    error: str | None = None
    inboxes: list[InboxStatus] = field(default_factory=list)
    #: Outbox rows by status.
    outbox: dict[str, int] = field(default_factory=dict)
    outbox_age_seconds: float | None = None
    outbox_up: bool = False
    quarantined: int = 0

    @property
    def healthy(self) -> bool:
        return self.database and self.outbox_up and all(inbox.up for inbox in self.inboxes)

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked_at": self.checked_at.isoformat(),
            "database": self.database,
            "error": self.error,
            "inboxes": {
                i.name: {
                    "up": i.up,
                    "connected": i.connected,
                    "last_beat": i.last_beat.isoformat() if i.last_beat else None,
                    "age_seconds": None if i.age_seconds is None else round(i.age_seconds, 1),
                    "handled": i.handled,
                    "waiting": i.waiting,
                    "error": i.error,
                }
                for i in self.inboxes
            },
            "outbox": {
                "up": self.outbox_up,
                "age_seconds": None if self.outbox_age_seconds is None else round(self.outbox_age_seconds, 1),
                "by_status": self.outbox,
            },
            "quarantined": self.quarantined,
        }


async def status(store: Store, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Health:
    """What the heartbeats, the outbox and the failures say now; a database error makes it unhealthy."""
    now = clock.now()
    stale = settings.web.stale_seconds
    try:
        async with store.reading() as repo:
            session = repo.session
            beats = {b.component: b for b in await session.scalars(select(Heartbeat))}
            outbox = await _outbox_counts(session)
            quarantined = await _quarantined(session)
    except StoreError as exc:
        return Health(checked_at=now, database=False, error=str(exc)[:500])
    inboxes = [_inbox(inbox.value, beats.get(f"inbox:{inbox.value}"), now, stale) for inbox in Inbox]
    outbox_beat = beats.get("outbox")
    outbox_age = (now - outbox_beat.beat_at).total_seconds() if outbox_beat else None
    return Health(
        checked_at=now,
        database=True,
        inboxes=inboxes,
        outbox=outbox,
        outbox_age_seconds=outbox_age,
        outbox_up=outbox_age is not None and outbox_age <= stale,
        quarantined=quarantined,
    )


def _inbox(name: str, beat: Heartbeat | None, now: dt.datetime, stale: float) -> InboxStatus:
    if beat is None:
        return InboxStatus(name, False, None, None, None, None, None, False)
    state = dict(beat.state or {})
    age = (now - beat.beat_at).total_seconds()
    connected = state.get("connected") is True
    return InboxStatus(
        name=name,
        connected=connected,
        last_beat=beat.beat_at,
        age_seconds=age,
        handled=_int(state.get("handled")),
        waiting=_int(state.get("waiting")),
        error=str(state["error"]) if state.get("error") else None,
        up=connected and age <= stale,
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def _outbox_counts(session: Any) -> dict[str, int]:
    rows = await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
    return {str(status): int(count) for status, count in rows}


async def _quarantined(session: Any) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Failure)
        .where(Failure.quarantined_at.is_not(None), Failure.released_at.is_(None))
    )
    return int(count or 0)


# -- Prometheus -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Snapshot:
    health: Health
    verdicts: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    #: Cumulative counts per bucket bound, then the count and the sum (seconds) of all timed messages.
    latency: list[int] = field(default_factory=list)
    latency_count: int = 0
    latency_sum: float = 0.0


class StoreCollector(Collector):
    """Yields mailgate's metrics from a snapshot of the store taken when the scrape came in."""

    def __init__(self, snapshot: _Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        snap = self.snapshot
        health = snap.health
        database = GaugeMetricFamily("mailgate_database_up", "Whether the store answered the scrape.")
        database.add_metric([], 1 if health.database else 0)
        yield database
        if not health.database:
            return
        messages = CounterMetricFamily(
            "mailgate_messages", "Messages processed, by verdict.", labels=["verdict"]
        )
        for verdict in sorted({"accepted", "rejected", "ignored", *snap.verdicts}):
            messages.add_metric([verdict], snap.verdicts.get(verdict, 0))
        yield messages
        findings = CounterMetricFamily(
            "mailgate_findings", "Findings on processed messages, by rule.", labels=["rule"]
        )
        for rule, count in sorted(snap.findings.items()):
            findings.add_metric([rule], count)
        yield findings
        replies = CounterMetricFamily(
            "mailgate_replies", "Replies that reached a final state, by state.", labels=["status"]
        )
        for state in FINAL_REPLY_STATES:
            replies.add_metric([state], health.outbox.get(state, 0))
        yield replies
        pending = GaugeMetricFamily("mailgate_replies_pending", "Replies waiting to be sent, or being sent.")
        pending.add_metric([], sum(health.outbox.get(state, 0) for state in OPEN_REPLY_STATES))
        yield pending
        buckets = [(str(b), n) for b, n in zip(LATENCY_BUCKETS, snap.latency, strict=True)]
        yield HistogramMetricFamily(
            "mailgate_processing_seconds",
            "Time to parse, check and file one message.",
            buckets=[*buckets, ("+Inf", snap.latency_count)],
            sum_value=snap.latency_sum,
        )
        quarantined = GaugeMetricFamily(
            "mailgate_quarantined_messages", "Messages quarantined after failing."
        )
        quarantined.add_metric([], health.quarantined)
        yield quarantined
        inbox_up = GaugeMetricFamily(
            "mailgate_inbox_up", "Whether the inbox watcher is connected and alive.", labels=["inbox"]
        )
        for inbox in health.inboxes:
            inbox_up.add_metric([inbox.name], 1 if inbox.up else 0)
        yield inbox_up


async def metrics_text(store: Store, settings: Settings) -> bytes:
    """The Prometheus text exposition of mailgate's metrics, read from the store now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(await _snapshot(store, settings)))
    return generate_latest(registry)


async def _snapshot(store: Store, settings: Settings) -> _Snapshot:
    health = await status(store, settings)
    if not health.database:
        return _Snapshot(health)
    try:
        async with store.reading() as repo:
            session = repo.session
            verdicts = {
                str(v): int(n)
                for v, n in await session.execute(
                    select(Message.verdict, func.count()).group_by(Message.verdict)
                )
            }
            findings = {
                str(rule): int(n)
                for rule, n in await session.execute(text(_FINDINGS_SQL[store.engine.dialect.name]))
                if rule
            }
            timed = Message.processing_ms.is_not(None)
            row = (
                await session.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(Message.processing_ms), 0.0),
                        *(
                            func.coalesce(func.sum(case((Message.processing_ms <= b * 1000, 1), else_=0)), 0)
                            for b in LATENCY_BUCKETS
                        ),
                    ).where(timed)
                )
            ).one()
    except StoreError as exc:
        return _Snapshot(Health(checked_at=health.checked_at, database=False, error=str(exc)[:500]))
    return _Snapshot(
        health,
        verdicts=verdicts,
        findings=findings,
        latency=[int(n) for n in row[2:]],
        latency_count=int(row[0]),
        latency_sum=float(row[1]) / 1000,
    )


#: Findings per rule, over every message's JSON list of findings.
_FINDINGS_SQL = {
    "sqlite": "SELECT json_extract(f.value, '$.rule'), count(*)"
    " FROM messages, json_each(messages.findings) AS f GROUP BY 1",
    "postgresql": "SELECT f ->> 'rule', count(*)"
    " FROM messages, json_array_elements(messages.findings) AS f GROUP BY 1",
}
