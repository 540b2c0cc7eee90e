"""The plain data a reply is made from: the message answered and the findings to report."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Original:
    """The message being answered."""

    #: Its Message-ID without the angle brackets, if it had one.
    message_id: str | None
    #: Its References ids, oldest first, without angle brackets.
    references: tuple[str, ...]
    #: Its decoded subject, as sent.
    subject: str
    #: The addr-spec the answer goes to.
    sender: str
    #: The From display name (may be empty).
    sender_name: str
    #: When it arrived; shown in its own time zone, so pass it in the units' zone.
    received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReplyFinding:
    """One finding as the sender reads it."""

    rule: str
    severity: str
    #: The rule's message, already rendered in Chinese; it says what to change.
    message: str


class ReplyKind(enum.StrEnum):
    RECEIPT = "receipt"  # 回执: the item was accepted and filed
    REJECTION = "rejection"  # 退稿通知: the item was refused
    ALERT = "alert"  # an urgent item, announced to the editors
