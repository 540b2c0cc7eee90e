"""The ops rejection log: rejected, ignored and quarantined messages, filtered, counted, viewed safely."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mailgate.desk.paging import Page
from mailgate.store import Store

#: What the log holds.
KINDS: tuple[str, ...] = ("rejected", "ignored", "quarantined")


@dataclass(frozen=True, slots=True)
class LogFilter:
    rule: str | None = None
    unit: str | None = None
    sender: str | None = None  # address, case-insensitive, substring
    verdict: str | None = None  # rejected | ignored | quarantined
    inbox: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class LogRow:
    #: "message" rows are verdicts; "failure" rows are quarantined messages (no verdict).
    kind: str
    id: int  # messages.id or failures.id
    received_at: dt.datetime
    mailbox: str
    from_address: str | None
    unit_id: str | None
    subject: str
    verdict: str  # rejected | ignored | quarantined
    rules: list[str]


@dataclass(frozen=True, slots=True)
class MessageView:
    """A logged message as ops may look at it: never raw HTML, never remote content."""

    row: LogRow
    message_id: str | None
    headers: list[tuple[str, str]]
    text: str  # the decoded body text (HTML converted to text when that is all there is)
    html: str | None  # the HTML part sanitised (no scripts, no remote content), if there is one
    attachments: list[tuple[str | None, str, int]]  # (file name, content type, size)
    findings: list[dict[str, object]]  # rule, severity, reason, params, message
    replies: list[dict[str, object]]  # outbox rows: kind, recipient, status, reason, sent_at
    error: str | None = None  # for a quarantined message: the last processing error
    has_raw: bool = True


@dataclass(frozen=True, slots=True)
class LogStats:
    by_rule: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)
    by_verdict: dict[str, int] = field(default_factory=dict)


async def list_log(
    store: Store, where: LogFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[LogRow]:
    """One page of the log, newest first."""
    raise NotImplementedError


async def message_view(store: Store, kind: str, row_id: int) -> MessageView | None:
    raise NotImplementedError


async def raw_message(store: Store, kind: str, row_id: int) -> bytes | None:
    """The original bytes as received, for download as .eml."""
    raise NotImplementedError


async def log_stats(store: Store, since: dt.date | None = None, until: dt.date | None = None) -> LogStats:
    """Counts per rule, per unit and per verdict of the logged messages in the period."""
    raise NotImplementedError
