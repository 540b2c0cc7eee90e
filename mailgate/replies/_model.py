"""The plain data a reply is made from: the message answered and the findings to report."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from mailgate.errors import MailgateError


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
    STRANGER = "stranger"  # an unregistered sender is told how to register, and nothing else


class ReplyError(MailgateError):
    """A reply cannot be built for this message; ``reason`` says why, as a short English code.

    ``no_recipient``: there is no address to answer. ``unencodable_recipient``: the address cannot be
    put on the wire (see ``wire_address``). ``template_failed``: a reply template failed on this
    message's facts (the templates are tried at start, so this is rare). The message itself is fine:
    it keeps its verdict; only this reply is not sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"reply not built: {reason}")
        self.reason = reason
