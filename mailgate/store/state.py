"""The daemon's own state in the store: source checkpoints, failing messages, heartbeats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.sources.base import Checkpoint
from mailgate.store.models import CheckpointRow, Failure, Heartbeat
from mailgate.store.store import Store


class StoreCheckpoints:
    """Source checkpoints kept in the database (the ``Checkpoints`` protocol)."""

    def __init__(self, store: Store, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.clock = clock

    async def load(self, mailbox: str) -> Checkpoint | None:
        """The checkpoint last saved for ``mailbox`` (a read-only snapshot: it never waits for the writer)."""
        async with self.store.reading() as repo:
            row = await repo.session.get(CheckpointRow, mailbox)
            return None if row is None else Checkpoint(row.uidvalidity, row.last_uid)

    async def save(self, mailbox: str, checkpoint: Checkpoint) -> None:
        now = self.clock.now()
        async with self.store.transaction() as repo:
            row = await repo.session.get(CheckpointRow, mailbox)
            if row is None:
                repo.session.add(
                    CheckpointRow(
                        mailbox=mailbox,
                        uidvalidity=checkpoint.uidvalidity,
                        last_uid=checkpoint.last_uid,
                        updated_at=now,
                    )
                )
            else:
                row.uidvalidity, row.last_uid, row.updated_at = (
                    checkpoint.uidvalidity,
                    checkpoint.last_uid,
                    now,
                )


@dataclass(frozen=True, slots=True)
class FailureState:
    """How often a message has failed, and whether it is now quarantined."""

    attempts: int
    quarantined: bool


class Failures:
    """Failing messages: counted per attempt, quarantined (raw bytes kept) after too many."""

    def __init__(self, store: Store, max_attempts: int, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.clock = clock

    async def known(self, mailbox: str) -> dict[str, FailureState]:
        """Every message of ``mailbox`` that has failed, by source key (usually none; read-only)."""
        async with self.store.reading() as repo:
            rows = await repo.session.scalars(select(Failure).where(Failure.mailbox == mailbox))
            return {r.source_key: FailureState(r.attempts, _quarantined(r)) for r in rows}

    async def record(
        self,
        mailbox: str,
        key: str,
        error: str,
        *,
        raw: bytes,
        message_id: str | None = None,
        from_address: str | None = None,
        subject: str | None = None,
    ) -> FailureState:
        """Count one more failure; quarantine the message when it has failed ``max_attempts`` times."""
        now = self.clock.now()
        async with self.store.transaction() as repo:
            row = await _failure(repo.session, mailbox, key)
            if row is None:
                row = Failure(
                    mailbox=mailbox,
                    source_key=key,
                    attempts=0,
                    last_error=error,
                    first_failed_at=now,
                    last_failed_at=now,
                )
                repo.session.add(row)
            row.attempts += 1
            row.last_error = error[:4000]
            row.last_failed_at = now
            row.message_id, row.from_address, row.subject = message_id, from_address, subject
            if row.attempts >= self.max_attempts and row.quarantined_at is None:
                row.quarantined_at = now
                row.raw = raw
            return FailureState(row.attempts, row.quarantined_at is not None)

    async def quarantined_count(self) -> int:
        """How many messages are quarantined and not released (read-only)."""
        async with self.store.reading() as repo:
            count = await repo.session.scalar(
                select(func.count())
                .select_from(Failure)
                .where(Failure.quarantined_at.is_not(None), Failure.released_at.is_(None))
            )
            return int(count or 0)


def _quarantined(failure: Failure) -> bool:
    """Quarantined and not released by a replay."""
    return failure.quarantined_at is not None and failure.released_at is None


async def _failure(session: Any, mailbox: str, key: str) -> Failure | None:
    result: Failure | None = await session.scalar(
        select(Failure).where(Failure.mailbox == mailbox, Failure.source_key == key)
    )
    return result


class Heartbeats:
    """Signs of life of the daemon's components, for `mailgate health` and the status page."""

    def __init__(self, store: Store, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.clock = clock

    async def beat(self, component: str, **state: Any) -> None:
        """Record that ``component`` is alive now, in ``state``: one upsert, so writers never collide."""
        now = self.clock.now()
        async with self.store.transaction() as repo:
            insert = pg_insert if repo.session.get_bind().dialect.name == "postgresql" else sqlite_insert
            statement = insert(Heartbeat).values(component=component, beat_at=now, state=state)
            await repo.session.execute(
                statement.on_conflict_do_update(
                    index_elements=[Heartbeat.component], set_={"beat_at": now, "state": state}
                )
            )

    async def all(self) -> dict[str, tuple[dt.datetime, dict[str, Any]]]:
        async with self.store.reading() as repo:
            rows = await repo.session.scalars(select(Heartbeat))
            return {r.component: (r.beat_at, dict(r.state)) for r in rows}
