"""What every reply transport offers the outbox worker: deliver one rendered message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A rendered reply ready to send."""

    outbox_id: int
    sender: str  # envelope MAIL FROM
    recipients: Sequence[str]
    raw: bytes  # the whole message, CRLF line ends


class Transport(Protocol):
    """Sends replies. ``send`` raises ``TransportError`` (temporary) or ``PermanentTransportError``."""

    async def open(self) -> None:
        """Prepare to send a batch (connect); idempotent."""

    async def send(self, message: Outgoing, *, before_data: BeforeData | None = None) -> None:
        """Deliver ``message``. ``before_data`` is awaited once the server has accepted the
        envelope and just before the message data is sent: the worker records there that the
        message may now be delivered, so that a crash never makes it send a reply twice."""

    async def close(self) -> None:
        """End the batch; never raises."""


class BeforeData(Protocol):
    async def __call__(self) -> None: ...
