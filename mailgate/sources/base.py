"""What every message source offers the daemon: batches of waiting messages, and filing them."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailgate.kinds import Inbox


class Disposition(enum.StrEnum):
    """Where a message goes once its verdict is committed (or it is given up on)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message as a source delivered it."""

    inbox: Inbox
    #: Stable identity of the message in its mailbox: ``"<uidvalidity>:<uid>"`` for IMAP, the unique
    #: part of the file name for Maildir. Never reused for another message.
    key: str
    raw: bytes  # the whole message; only its header block when ``size`` exceeds the fetch cap
    size: int  # the message's real size in bytes
    #: IMAP INTERNALDATE, timezone-aware; None when the source cannot tell (the pipeline then reads
    #: the topmost Received header).
    arrived_at: dt.datetime | None
    uidvalidity: int | None = None
    uid: int | None = None
    #: When a file was delivered (its modification time): the arrival when no Received header tells it.
    delivered_at: dt.datetime | None = None

    @property
    def truncated(self) -> bool:
        return len(self.raw) < self.size


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a source has read a mailbox: its UIDVALIDITY and the highest UID handled."""

    uidvalidity: int
    last_uid: int


class Checkpoints(Protocol):
    """Where sources keep their checkpoints (the store)."""

    async def load(self, mailbox: str) -> Checkpoint | None: ...

    async def save(self, mailbox: str, checkpoint: Checkpoint) -> None: ...


class Source(Protocol):
    """A mailbox the daemon watches. Errors it cannot handle itself are raised as ``SourceError``."""

    inbox: Inbox

    async def connect(self) -> None:
        """Open (or reopen) the mailbox; idempotent."""

    async def close(self) -> None:
        """Let go of the mailbox; never raises."""

    def waiting(self) -> AsyncGenerator[list[Fetched], None]:
        """The messages waiting now, in bounded batches, oldest first; one pass, then it ends."""
        ...

    async def file(self, filed: Sequence[tuple[Fetched, Disposition]]) -> None:
        """Flag or move messages whose verdicts are committed, in one round trip where possible."""

    async def wait(self, at_most: float) -> bool:
        """Wait until new mail may be waiting (IDLE push, file event, or ``at_most`` seconds).

        Returns True when something arrived, False when the time ran out."""
        ...
