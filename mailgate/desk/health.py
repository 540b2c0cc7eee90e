"""Health of the daemon as the store records it: for /healthz, the status page and Prometheus /metrics.

Nothing here scans the history: heartbeats, the open replies (an index range) and the counters the
work keeps in its own transactions (``mailgate.store.counters``) answer in milliseconds at any size."""

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
from sqlalchemy import func, select

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.errors import StoreError
from mailgate.kinds import Inbox
from mailgate.store import Store
from mailgate.store import counters as names
from mailgate.store.counters import LATENCY_BUCKETS
from mailgate.store.counters import read as read_counters
from mailgate.store.models import Failure, Heartbeat, Outbox
from mailgate.store.outbox import OPEN_STATES

#: Outbox states a reply ends in (the counter) and passes through (the gauge).
FINAL_REPLY_STATES: tuple[str, ...] = ("sent", "failed", "unknown", "suppressed")
OPEN_REPLY_STATES: tuple[str, ...] = OPEN_STATES


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
    unreadable: int | None = None  # files of the Maildir that could not be read (Maildir only)


@dataclass(frozen=True, slots=True)
class Health:
    checked_at: dt.datetime
    database: bool
    error: str | None = None
    inboxes: list[InboxStatus] = field(default_factory=list)
    #: Outbox rows by status: the open ones counted now, the final ones from the counters.
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
                    "unreadable": i.unreadable,
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


@dataclass(frozen=True, slots=True)
class _Read:
    """Everything health and metrics need, from one read-only snapshot."""

    beats: dict[str, Heartbeat]
    open_replies: dict[str, int]
    counters: dict[str, int]
    quarantined: int


async def status(store: Store, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Health:
    """What the heartbeats, the outbox and the failures say now; a database error makes it unhealthy."""
    now = clock.now()
    try:
        read = await _read(store)
    except StoreError as exc:
        return _unreachable(now, exc)
    return _health(read, now, settings.web.stale_seconds)


def _unreachable(now: dt.datetime, exc: StoreError) -> Health:
    # The store's errors are short and never quote SQL or its parameters.
    return Health(checked_at=now, database=False, error=str(exc)[:300])


async def _read(store: Store) -> _Read:
    async with store.reading() as repo:
        session = repo.session
        beats = {b.component: b for b in await session.scalars(select(Heartbeat))}
        rows = await session.execute(
            select(Outbox.status, func.count()).where(Outbox.status.in_(OPEN_STATES)).group_by(Outbox.status)
        )
        open_replies = {str(state): int(count) for state, count in rows}
        totals = await read_counters(session)
        quarantined = await session.scalar(
            select(func.count())
            .select_from(Failure)
            .where(Failure.quarantined_at.is_not(None), Failure.released_at.is_(None))
        )
    return _Read(beats, open_replies, totals, int(quarantined or 0))


def _health(read: _Read, now: dt.datetime, stale: float) -> Health:
    inboxes = [_inbox(inbox.value, read.beats.get(f"inbox:{inbox.value}"), now, stale) for inbox in Inbox]
    outbox_beat = read.beats.get("outbox")
    outbox_age = (now - outbox_beat.beat_at).total_seconds() if outbox_beat else None
    outbox = {state: read.open_replies.get(state, 0) for state in OPEN_STATES}
    outbox |= {state: read.counters.get(names.REPLIES + state, 0) for state in FINAL_REPLY_STATES}
    return Health(
        checked_at=now,
        database=True,
        inboxes=inboxes,
        outbox=outbox,
        outbox_age_seconds=outbox_age,
        outbox_up=outbox_age is not None and outbox_age <= stale,
        quarantined=read.quarantined,
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
        unreadable=_int(state.get("unreadable")),
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- Prometheus -----------------------------------------------------------------------------------


class StoreCollector(Collector):
    """Yields mailgate's metrics from what one read of the store found."""

    def __init__(self, health: Health, counters: dict[str, int]) -> None:
        self.health = health
        self.counters = counters

    def collect(self) -> Iterable[Metric]:
        health, totals = self.health, self.counters
        database = GaugeMetricFamily("mailgate_database_up", "Whether the store answered the scrape.")
        database.add_metric([], 1 if health.database else 0)
        yield database
        if not health.database:
            return
        messages = CounterMetricFamily(
            "mailgate_messages", "Messages processed, by verdict.", labels=["verdict"]
        )
        verdicts = {name.removeprefix(names.MESSAGES) for name in totals if name.startswith(names.MESSAGES)}
        for verdict in sorted({"accepted", "rejected", "ignored", *verdicts}):
            messages.add_metric([verdict], totals.get(names.MESSAGES + verdict, 0))
        yield messages
        findings = CounterMetricFamily(
            "mailgate_findings", "Findings on processed messages, by rule.", labels=["rule"]
        )
        for name in sorted(totals):
            if name.startswith(names.FINDINGS):
                findings.add_metric([name.removeprefix(names.FINDINGS)], totals[name])
        yield findings
        replies = CounterMetricFamily(
            "mailgate_replies", "Replies that reached a final state, by state.", labels=["status"]
        )
        for state in FINAL_REPLY_STATES:
            replies.add_metric([state], health.outbox.get(state, 0))
        yield replies
        pending = GaugeMetricFamily(
            "mailgate_replies_pending", "Replies waiting to be sent, claimed, or being sent."
        )
        pending.add_metric([], sum(health.outbox.get(state, 0) for state in OPEN_REPLY_STATES))
        yield pending
        cumulative, buckets = 0, []
        for index, bound in enumerate(LATENCY_BUCKETS):
            cumulative += totals.get(f"{names.LATENCY}{index}", 0)
            buckets.append((str(bound), cumulative))
        yield HistogramMetricFamily(
            "mailgate_processing_seconds",
            "Time to parse, check and file one message.",
            buckets=[*buckets, ("+Inf", totals.get(names.LATENCY_COUNT, 0))],
            sum_value=totals.get(names.LATENCY_SUM_US, 0) / 1_000_000,
        )
        quarantined = GaugeMetricFamily(
            "mailgate_quarantined_messages", "Messages quarantined after failing."
        )
        quarantined.add_metric([], health.quarantined)
        yield quarantined
        inbox_up = GaugeMetricFamily(
            "mailgate_inbox_up", "Whether the inbox watcher is connected and alive.", labels=["inbox"]
        )
        unreadable = GaugeMetricFamily(
            "mailgate_inbox_unreadable_files",
            "Files of the inbox's Maildir that could not be read, at its last pass.",
            labels=["inbox"],
        )
        for inbox in health.inboxes:
            inbox_up.add_metric([inbox.name], 1 if inbox.up else 0)
            unreadable.add_metric([inbox.name], inbox.unreadable or 0)
        yield inbox_up
        yield unreadable


async def metrics_text(store: Store, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> bytes:
    """The Prometheus text exposition of mailgate's metrics, read from the store now."""
    now = clock.now()
    try:
        read = await _read(store)
    except StoreError as exc:
        health, totals = _unreachable(now, exc), {}
    else:
        health, totals = _health(read, now, settings.web.stale_seconds), read.counters
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(health, totals))
    return generate_latest(registry)
