"""The outbox queue: due replies, and the states each one moves through while it is sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from mailgate.store.models import Outbox
from mailgate.store.store import Store


@dataclass(frozen=True, slots=True)
class DueReply:
    """A reply the worker should try to send now."""

    id: int
    kind: str
    sender: str
    recipient: str
    raw: bytes
    attempts: int


class OutboxQueue:
    """State changes of outbox rows, each in its own short transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def due(self, now: dt.datetime, limit: int = 50) -> list[DueReply]:
        async with self.store.transaction() as repo:
            rows = await repo.session.scalars(
                select(Outbox)
                .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            )
            return [DueReply(r.id, r.kind, r.sender, r.recipient, r.raw, r.attempts) for r in rows]

    async def next_due_at(self) -> dt.datetime | None:
        """When the earliest pending reply is due, if any is pending."""
        async with self.store.transaction() as repo:
            return await repo.session.scalar(
                select(Outbox.next_attempt_at)
                .where(Outbox.status == "pending")
                .order_by(Outbox.next_attempt_at)
                .limit(1)
            )

    async def sending(self, outbox_id: int) -> None:
        """The server took the envelope; from now on a crash must not lead to a second send."""
        await self._set(outbox_id, status="sending")

    async def sent(self, outbox_id: int, now: dt.datetime) -> None:
        await self._set(outbox_id, status="sent", sent_at=now, last_error=None)

    async def retry(self, outbox_id: int, error: str, attempts: int, at: dt.datetime) -> None:
        await self._set(outbox_id, status="pending", attempts=attempts, next_attempt_at=at, last_error=error)

    async def failed(self, outbox_id: int, error: str, attempts: int) -> None:
        await self._set(outbox_id, status="failed", attempts=attempts, last_error=error)

    async def interrupted(self) -> int:
        """Rows left ``sending`` by a daemon that stopped mid-send become ``unknown``; returns how many."""
        async with self.store.transaction() as repo:
            result = await repo.session.execute(
                update(Outbox)
                .where(Outbox.status == "sending")
                .values(status="unknown", last_error="the daemon stopped while the message data was sent")
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        """Rows by status, for health reports."""
        async with self.store.transaction() as repo:
            rows = await repo.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            return {str(row[0]): int(row[1]) for row in rows}

    async def _set(self, outbox_id: int, **values: object) -> None:
        async with self.store.transaction() as repo:
            await repo.session.execute(update(Outbox).where(Outbox.id == outbox_id).values(**values))
