"""The outbox queue: due replies claimed by one worker, and the states each one moves through while sent."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from mailgate.errors import MailgateError
from mailgate.store import counters
from mailgate.store.models import Outbox
from mailgate.store.store import Store

#: Replies not yet in a final state: waiting, claimed by a worker, being sent.
OPEN_STATES: tuple[str, ...] = ("pending", "claimed", "sending")


class ClaimLostError(MailgateError):
    """The reply is no longer this worker's to send (a newer `mailgate run` took it back)."""


@dataclass(frozen=True, slots=True)
class DueReply:
    """A reply the worker has claimed and should try to send now."""

    id: int
    kind: str
    sender: str
    recipient: str
    raw: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Interrupted:
    """What a start found of the replies a stopped daemon had in hand."""

    unknown: int  # were being sent: the data may have gone out, so they are not sent again
    returned: int  # were claimed but not yet being sent: pending again


class OutboxQueue:
    """State changes of outbox rows, each in its own short transaction.

    Rows move ``pending → claimed`` in one statement, so that two workers never claim the same row;
    every later change is made only while the row is still this worker's (``claimed_by``)."""

    def __init__(self, store: Store, *, worker: str | None = None) -> None:
        self.store = store
        #: This worker's name on the rows it claims: host, process and a random part, unique per queue.
        self.worker = worker or f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"

    async def claim(self, now: dt.datetime, limit: int = 50) -> list[DueReply]:
        """Claim up to ``limit`` replies due at ``now`` for this worker, earliest first."""
        async with self.store.transaction() as repo:
            due = (
                select(Outbox.id)
                .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            )
            if self.store.dialect == "postgresql":
                # Rows another worker's claim is locking are skipped rather than waited for (and then
                # found claimed). SQLite needs nothing: its writers run one at a time (BEGIN IMMEDIATE).
                due = due.with_for_update(skip_locked=True)
            # Chosen once, in a materialised CTE: as a plain sub-select, PostgreSQL may run it again
            # per row, claiming more than ``limit``.
            chosen = due.cte("due").prefix_with("MATERIALIZED")
            result = await repo.session.execute(
                update(Outbox)
                .where(Outbox.status == "pending", Outbox.id.in_(select(chosen.c.id)))
                .values(status="claimed", claimed_by=self.worker)
                .returning(
                    Outbox.id,
                    Outbox.kind,
                    Outbox.sender,
                    Outbox.recipient,
                    Outbox.raw,
                    Outbox.attempts,
                    Outbox.next_attempt_at,
                )
                .execution_options(synchronize_session=False)
            )
            rows = sorted(result.all(), key=lambda r: (r.next_attempt_at, r.id))
            return [DueReply(r.id, r.kind, r.sender, r.recipient, r.raw, r.attempts) for r in rows]

    async def next_due_at(self) -> dt.datetime | None:
        """When the earliest pending reply is due, if any is pending."""
        async with self.store.reading() as repo:
            return await repo.session.scalar(
                select(Outbox.next_attempt_at)
                .where(Outbox.status == "pending")
                .order_by(Outbox.next_attempt_at)
                .limit(1)
            )

    async def sending(self, outbox_id: int) -> None:
        """The server took the envelope; from now on a crash must not lead to a second send.

        Raises ``ClaimLostError`` (and nothing may be sent) when the row is no longer this worker's."""
        if not await self._set(outbox_id, ("claimed",), status="sending"):
            raise ClaimLostError(f"reply {outbox_id} is no longer claimed by this worker")

    async def sent(self, outbox_id: int, now: dt.datetime) -> bool:
        return await self._set(
            outbox_id,
            ("sending",),
            {counters.REPLIES + "sent": 1},
            status="sent",
            sent_at=now,
            last_error=None,
            claimed_by=None,
        )

    async def retry(self, outbox_id: int, error: str, attempts: int, at: dt.datetime) -> bool:
        """Back to ``pending`` for another try at ``at``: only a reply whose data has not begun to go
        out (still ``claimed``); one already ``sending`` may have been delivered, see :meth:`unknown`."""
        return await self._set(
            outbox_id,
            ("claimed",),
            status="pending",
            attempts=attempts,
            next_attempt_at=at,
            last_error=error,
            claimed_by=None,
        )

    async def unknown(self, outbox_id: int, error: str, attempts: int) -> bool:
        """The send failed after the data began to go out: it may have been delivered, so it is left
        ``unknown`` for ops to check and never sent again."""
        return await self._set(
            outbox_id,
            ("sending",),
            {counters.REPLIES + "unknown": 1},
            status="unknown",
            attempts=attempts,
            last_error=error,
            claimed_by=None,
        )

    async def failed(self, outbox_id: int, error: str, attempts: int) -> bool:
        return await self._set(
            outbox_id,
            ("claimed", "sending"),
            {counters.REPLIES + "failed": 1},
            status="failed",
            attempts=attempts,
            last_error=error,
            claimed_by=None,
        )

    async def release(self) -> int:
        """Return this worker's claimed replies that it has not started to send to ``pending``."""
        async with self.store.transaction() as repo:
            result = await repo.session.execute(
                update(Outbox)
                .where(Outbox.status == "claimed", Outbox.claimed_by == self.worker)
                .values(status="pending", claimed_by=None)
            )
            return _rowcount(result)

    async def interrupted(self) -> Interrupted:
        """Holding the instance lock (at start, and each time it is taken back, so that no other worker
        may go on): replies another worker left ``sending`` become ``unknown``; replies it had only
        claimed are pending. This worker's own replies are its own to settle, and left as they are."""
        others = Outbox.claimed_by.is_(None) | (Outbox.claimed_by != self.worker)
        async with self.store.transaction() as repo:
            unknown = _rowcount(
                await repo.session.execute(
                    update(Outbox)
                    .where(Outbox.status == "sending", others)
                    .values(
                        status="unknown",
                        claimed_by=None,
                        last_error="the daemon stopped while the message data was sent",
                    )
                )
            )
            returned = _rowcount(
                await repo.session.execute(
                    update(Outbox)
                    .where(Outbox.status == "claimed", others)
                    .values(status="pending", claimed_by=None)
                )
            )
            await counters.add(repo.session, {counters.REPLIES + "unknown": unknown})
            return Interrupted(unknown, returned)

    async def open_counts(self) -> dict[str, int]:
        """Replies not yet in a final state, by status (an index range: cheap however long the history)."""
        async with self.store.reading() as repo:
            rows = await repo.session.execute(
                select(Outbox.status, func.count())
                .where(Outbox.status.in_(OPEN_STATES))
                .group_by(Outbox.status)
            )
            found = {str(row[0]): int(row[1]) for row in rows}
        return {state: found.get(state, 0) for state in OPEN_STATES}

    async def _set(
        self, outbox_id: int, states: tuple[str, ...], add: dict[str, int] | None = None, **values: Any
    ) -> bool:
        """Change the row if it is this worker's in one of ``states``; whether it was."""
        mine: ColumnElement[bool] = (Outbox.id == outbox_id) & (Outbox.claimed_by == self.worker)
        async with self.store.transaction() as repo:
            result = await repo.session.execute(
                update(Outbox).where(mine, Outbox.status.in_(states)).values(**values)
            )
            changed = _rowcount(result) == 1
            if changed and add:
                await counters.add(repo.session, add)
            return changed


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)
