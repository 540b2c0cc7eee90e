"""The ops rejection log: rejected, ignored and quarantined messages, filtered, counted, viewed safely."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
from dataclasses import dataclass, field
from typing import Any

import nh3
from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    SQLColumnExpression,
    String,
    column,
    exists,
    func,
    literal_column,
    select,
    true,
    tuple_,
)

from mailgate.config import Settings
from mailgate.desk.paging import Page, decode_cursor, encode_cursor, fits_id
from mailgate.desk.queue import findings_with_messages
from mailgate.desk.times import day_range, processed_apart
from mailgate.mail.decode import decode_bytes
from mailgate.mail.parse import parse_message
from mailgate.store import Store
from mailgate.store.models import Failure, Message, Outbox

#: What the log holds.
KINDS: tuple[str, ...] = ("rejected", "ignored", "quarantined")
#: Why a reply was held back (``outbox.reason`` of a suppressed reply), as the desk says it.
HELD_BACK: dict[str, str] = {
    "too_old": "邮件收到时已超过自动回复的时限，不再回复",
    "rate_limit": "该地址一小时内收到的自动回复已达上限",
    "stranger_daily": "未登记的发件人每天只收到一封通知，今天已发过",
    "strangers_off": "按配置不回复未登记的发件人",
    "undeliverable": "发件人地址无法投递",
}


def held_back(reason: str | None) -> str:
    """Why a reply was held back, in Chinese (the raw reason code when it is not a known one)."""
    if not reason:
        return "未说明原因"
    return HELD_BACK.get(reason, reason)


@dataclass(frozen=True, slots=True)
class LogFilter:
    rule: str | None = None
    unit: str | None = None
    sender: str | None = None  # address, case-insensitive, substring
    verdict: str | None = None  # rejected | ignored | quarantined
    inbox: str | None = None
    since: dt.date | None = None  # arrived on or after, a day in ``zone``
    until: dt.date | None = None  # arrived on or before
    #: The units' time zone, which ``since`` and ``until`` are days of (required with either).
    zone: dt.tzinfo | None = None


@dataclass(frozen=True, slots=True)
class LogRow:
    #: "message" rows are verdicts; "failure" rows are quarantined messages (no verdict).
    kind: str
    id: int  # messages.id or failures.id
    #: When the message arrived (from the source); for a quarantined message, when it was quarantined.
    received_at: dt.datetime
    mailbox: str
    from_address: str | None
    unit_id: str | None
    subject: str
    verdict: str  # rejected | ignored | quarantined
    rules: list[str]
    #: When the verdict was reached (None for a quarantined message).
    processed_at: dt.datetime | None = None

    @property
    def processed_apart(self) -> dt.datetime | None:
        """When the verdict was reached, if that is more than a minute from the arrival."""
        return processed_apart(self.received_at, self.processed_at)


@dataclass(frozen=True, slots=True)
class ReplyView:
    """A reply to a logged message, and why it was held back if it was."""

    kind: str  # receipt | rejection | alert
    recipient: str
    status: str  # pending | sending | sent | failed | unknown | suppressed
    reason: str | None
    sent_at: dt.datetime | None

    @property
    def held_back(self) -> str | None:
        """Why the reply was never sent, in Chinese (None unless it was held back)."""
        return held_back(self.reason) if self.status == "suppressed" else None


@dataclass(frozen=True, slots=True)
class MessageView:
    """A logged message as ops may look at it: never raw HTML, never remote content."""

    row: LogRow
    message_id: str | None
    headers: list[tuple[str, str]]
    text: str  # the decoded body text (HTML converted to text when that is all there is)
    html: str | None  # the HTML part sanitised (no scripts, no remote content), if there is one
    attachments: list[tuple[str | None, str, int]]  # (file name, content type, size)
    findings: list[dict[str, object]]  # rule, severity, reason, params, message (as the sender read it)
    replies: list[ReplyView]
    error: str | None = None  # for a quarantined message: the last processing error
    has_raw: bool = True


@dataclass(frozen=True, slots=True)
class LogStats:
    #: Messages per rule id among their findings, per unit ("" for a sender of no unit), per verdict.
    by_rule: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)
    by_verdict: dict[str, int] = field(default_factory=dict)


async def list_log(
    store: Store, where: LogFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[LogRow]:
    """One page of the log, newest first.

    Messages are ordered by arrival, quarantined messages by the time they were quarantined; ``cursor``
    is a page's ``next_cursor`` (ValueError when it is not one, or for days out of range). ``total``
    is not counted."""
    after = decode_cursor(_CURSOR, cursor, _CURSOR_SHAPE) if cursor else None
    limit = max(1, limit)
    messages = _message_query(store.engine.dialect.name, where)
    if messages is not None:
        messages = _after(messages, "message", Message.received_at, Message.id, after).limit(limit + 1)
    failures = _failure_query(where)
    if failures is not None:
        failures = _after(failures, "failure", Failure.quarantined_at, Failure.id, after).limit(limit + 1)
    rows: list[LogRow] = []
    async with store.reading() as repo:
        if messages is not None:
            rows.extend(_message_row(r) for r in await repo.session.execute(messages))
        if failures is not None:
            rows.extend(_failure_row(r) for r in await repo.session.execute(failures))
    rows.sort(key=_sort_key, reverse=True)
    page = rows[:limit]
    next_cursor = encode_cursor(_CURSOR, _sort_key(page[-1])) if len(rows) > limit else None
    return Page(page, next_cursor)


async def message_view(store: Store, kind: str, row_id: int, *, settings: Settings) -> MessageView | None:
    """A message of the log (``kind`` "message" or "failure") as ops may look at it safely; its
    findings say what the sender read (``settings``: the operator's messages and script)."""
    if not fits_id(row_id):
        return None
    async with store.reading() as repo:
        session = repo.session
        if kind == "message":
            query = _MESSAGE.add_columns(Message.raw).where(Message.id == row_id)
            found = (await session.execute(query)).first()
            if found is None:
                return None
            row, raw, error = _message_row(found), found.raw, None
            findings = findings_with_messages(found.findings or [], settings)
            outbox = await session.execute(
                select(Outbox.kind, Outbox.recipient, Outbox.status, Outbox.reason, Outbox.sent_at)
                .where(Outbox.message_pk == row_id)
                .order_by(Outbox.id)
            )
            replies = [ReplyView(r.kind, r.recipient, r.status, r.reason, r.sent_at) for r in outbox]
        elif kind == "failure":
            failed = (
                await session.execute(
                    _FAILURE.add_columns(Failure.raw, Failure.last_error).where(Failure.id == row_id)
                )
            ).first()
            if failed is None:
                return None
            row, raw, error = _failure_row(failed), failed.raw, failed.last_error
            findings, replies = [], []
        else:
            return None
    if raw is None:
        return MessageView(row, None, [], "", None, [], findings, replies, error, has_raw=False)
    return await asyncio.to_thread(_view, row, raw, findings, replies, error)


async def raw_message(store: Store, kind: str, row_id: int) -> bytes | None:
    """The original bytes as received, for download as .eml."""
    model: type[Message] | type[Failure]
    if kind == "message":
        model = Message
    elif kind == "failure":
        model = Failure
    else:
        return None
    if not fits_id(row_id):
        return None
    async with store.reading() as repo:
        raw: bytes | None = await repo.session.scalar(select(model.raw).where(model.id == row_id))
    return raw


async def log_stats(
    store: Store, since: dt.date | None = None, until: dt.date | None = None, *, zone: dt.tzinfo
) -> LogStats:
    """Counts per rule, per unit and per verdict of the logged messages that arrived in the period
    (days in ``zone``; ValueError for a day out of range)."""
    start, end = day_range(since, until, zone)
    period = _period(Message.received_at, start, end)
    logged = [Message.verdict.in_(_VERDICTS), *period]
    findings, rule = _findings(store.engine.dialect.name)
    async with store.reading() as repo:
        session = repo.session
        by_rule = await session.execute(
            select(rule, func.count(func.distinct(Message.id)))
            .select_from(Message)
            .join(findings, true())
            .where(*logged)
            .group_by(rule)
        )
        by_unit = await session.execute(
            select(Message.unit_id, func.count()).where(*logged).group_by(Message.unit_id)
        )
        verdicts = select(Message.verdict, func.count()).where(*logged).group_by(Message.verdict)
        by_verdict = {str(v): int(n) for v, n in await session.execute(verdicts)}
        quarantined = await session.scalar(
            select(func.count())
            .select_from(Failure)
            .where(*_QUARANTINED, *_period(Failure.quarantined_at, start, end))
        )
    if quarantined:
        by_verdict["quarantined"] = int(quarantined)
    return LogStats(
        by_rule={str(r): int(n) for r, n in by_rule if r is not None},
        by_unit=_summed((u or "", int(n)) for u, n in by_unit),
        by_verdict=by_verdict,
    )


def sanitise_html(html: str) -> str:
    """HTML safe to show inside the desk: no scripts, styles, event handlers, forms or frames, and no
    remote content (images are dropped; links keep only absolute http(s) and mailto addresses)."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_Query = Select[*tuple[Any, ...]]
_CURSOR = "log"
_CURSOR_SHAPE = (dt.datetime, str, int)
_VERDICTS = ("rejected", "ignored")
_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items() if tag in _TAGS}
_MESSAGE = select(
    Message.id,
    Message.received_at,
    Message.processed_at,
    Message.mailbox,
    Message.from_address,
    Message.unit_id,
    Message.subject,
    Message.verdict,
    Message.findings,
)
#: Failures still in quarantine (a replayed one is released: its verdict is a message row now).
_QUARANTINED = (Failure.quarantined_at.is_not(None), Failure.released_at.is_(None))
_FAILURE = select(
    Failure.id,
    func.coalesce(Failure.quarantined_at, Failure.last_failed_at).label("at"),
    Failure.mailbox,
    Failure.from_address,
    Failure.subject,
)


def _message_query(dialect: str, where: LogFilter) -> _Query | None:
    if where.verdict is not None and where.verdict not in _VERDICTS:
        return None
    # Without ANALYZE statistics (the usual SQLite store) SQLite would read every rejected message by
    # the verdict index and sort them all; its no-op unary + keeps it on the arrival index instead.
    verdict = literal_column("+messages.verdict", String()) if dialect == "sqlite" else Message.verdict
    query = _MESSAGE.where(verdict.in_([where.verdict] if where.verdict else _VERDICTS))
    if where.rule is not None:
        findings, rule = _findings(dialect)
        query = query.where(exists(select(1).select_from(findings).where(rule == where.rule)))
    if where.unit is not None:
        query = query.where(Message.unit_id == where.unit)
    if where.sender:
        # Addresses are stored lower-cased (``Submission.from_address``): no lower() on 100,000 rows.
        query = query.where(Message.from_address.contains(where.sender.lower(), autoescape=True))
    if where.inbox is not None:
        query = query.where(Message.mailbox == where.inbox)
    start, end = day_range(where.since, where.until, where.zone)
    return query.where(*_period(Message.received_at, start, end)).order_by(
        Message.received_at.desc(), Message.id.desc()
    )


def _failure_query(where: LogFilter) -> _Query | None:
    if where.verdict not in (None, "quarantined") or where.rule is not None or where.unit is not None:
        return None
    query = _FAILURE.where(*_QUARANTINED)
    if where.sender:
        query = query.where(func.lower(Failure.from_address).contains(where.sender.lower(), autoescape=True))
    if where.inbox is not None:
        query = query.where(Failure.mailbox == where.inbox)
    start, end = day_range(where.since, where.until, where.zone)
    return query.where(*_period(Failure.quarantined_at, start, end)).order_by(
        Failure.quarantined_at.desc(), Failure.id.desc()
    )


def _after(
    query: _Query,
    kind: str,
    at: SQLColumnExpression[Any],
    row_id: SQLColumnExpression[int],
    cursor: tuple[Any, ...] | None,
) -> _Query:
    """Rows of ``kind`` after the cursor's row in the order (time, kind, id), descending."""
    if cursor is None:
        return query
    at_cursor, kind_cursor, id_cursor = cursor
    if kind < kind_cursor:
        return query.where(at <= at_cursor)
    if kind > kind_cursor:
        return query.where(at < at_cursor)
    return query.where(tuple_(at, row_id) < tuple_(at_cursor, id_cursor))


def _period(
    at: SQLColumnExpression[Any], start: dt.datetime | None, end: dt.datetime | None
) -> list[ColumnElement[bool]]:
    return [c for c in (at >= start if start else None, at < end if end else None) if c is not None]


def _findings(dialect: str) -> tuple[Any, ColumnElement[Any]]:
    """The findings of a message as rows (correlated with ``messages``), and the rule id of each."""
    function = func.json_array_elements if dialect == "postgresql" else func.json_each
    findings = function(Message.findings).table_valued(column("value", JSON)).alias("finding")
    return findings, findings.c.value["rule"].as_string()


def _message_row(row: Any) -> LogRow:
    return LogRow(
        kind="message",
        id=row.id,
        received_at=row.received_at,
        mailbox=row.mailbox,
        from_address=row.from_address,
        unit_id=row.unit_id,
        subject=row.subject,
        verdict=row.verdict,
        rules=[str(f.get("rule")) for f in row.findings or [] if isinstance(f, dict)],
        processed_at=row.processed_at,
    )


def _failure_row(row: Any) -> LogRow:
    return LogRow(
        kind="failure",
        id=row.id,
        received_at=row.at,
        mailbox=row.mailbox,
        from_address=row.from_address,
        unit_id=None,
        subject=row.subject or "",
        verdict="quarantined",
        rules=[],
    )


def _sort_key(row: LogRow) -> tuple[dt.datetime, str, int]:
    return (row.received_at, row.kind, row.id)


def _summed(pairs: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, count in pairs:
        out[key] = out.get(key, 0) + count
    return out


def _view(
    row: LogRow,
    raw: bytes,
    findings: list[dict[str, object]],
    replies: list[ReplyView],
    error: str | None,
) -> MessageView:
    submission = parse_message(raw)
    html = _html_part(raw)
    return MessageView(
        row=row,
        message_id=submission.message_id,
        headers=list(submission.headers),
        text=submission.body,
        html=sanitise_html(html) if html is not None else None,
        attachments=[(a.filename, a.content_type, a.size) for a in submission.attachments],
        findings=findings,
        replies=replies,
        error=error,
    )


def _html_part(raw: bytes) -> str | None:
    """The first HTML body part of ``raw``, decoded (None when there is none)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in message.walk():
            if part.get_content_type() == "text/html" and part.get_content_disposition() != "attachment":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    return decode_bytes(payload, part.get_content_charset()).text
    except Exception:  # a message too broken to walk has no HTML to show
        return None
    return None
