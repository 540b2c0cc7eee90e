"""The tables: messages and their verdicts, items and revisions, the outbox, the registry, checkpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Message(Base):
    """One message mailgate processed, whatever its verdict."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_messages_mailbox_uid"),
        UniqueConstraint("mailbox", "source_key", name="uq_messages_mailbox_key"),
        Index("ix_messages_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(64))
    uidvalidity: Mapped[int | None] = mapped_column(Integer)
    uid: Mapped[int | None] = mapped_column(Integer)
    #: The source's stable identity of the message in its mailbox (see ``Fetched.key``).
    source_key: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    from_address: Mapped[str | None] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    unit_id: Mapped[str | None] = mapped_column(String(128), index=True)
    received_at: Mapped[dt.datetime]
    processed_at: Mapped[dt.datetime]
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    #: [{"rule", "severity", "reason", "params"}] in rule order.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: How long parsing, the rules and the transaction took, for the latency histogram.
    processing_ms: Mapped[float | None]


class Item(Base):
    """A valid information item on the editors' desk; revisions fold into it."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_unit_title", "unit_id", "title_key"),
        # The editors' queue order: urgent first, then newest.
        Index("ix_items_queue", "urgent", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(512))
    inbox: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(default=False)
    commission_code: Mapped[str | None] = mapped_column(String(64))
    #: Answered a commission after its deadline.
    late: Mapped[bool] = mapped_column(default=False)
    #: new | review | used | unused — set by editors; scoring builds on it.
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    #: Title, 正文 and attachment text of the current revision as search terms (see ``mailgate.desk.search``).
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    revisions: Mapped[list[Revision]] = relationship(back_populates="item", order_by="Revision.number")


class Revision(Base):
    """One version of an item, as one accepted message carried it."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_revisions_item_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1 for the original
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(Text)
    attachment_text: Mapped[str | None] = mapped_column(Text)
    body_zi: Mapped[int] = mapped_column(Integer)
    attachment_zi: Mapped[int | None] = mapped_column(Integer)
    counting: Mapped[str] = mapped_column(String(8))
    officer: Mapped[str | None] = mapped_column(String(128))
    #: The 落款 name (姓名/作者) as the unit wrote it; ``officer`` is the registered sender.
    author: Mapped[str | None] = mapped_column(String(128))
    author_unit: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(64))
    signed_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime]
    item: Mapped[Item] = relationship(back_populates="revisions")


class Outbox(Base):
    """A reply to send: written with the verdict, sent by the outbox worker."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_created", "recipient", "created_at"),
        Index("ix_outbox_key_created", "recipient_key", "created_at"),
        Index("ix_outbox_audience_due", "audience", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    kind: Mapped[str] = mapped_column(String(16))  # receipt | rejection | alert
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    #: The recipient normalised (unquoted, lower-cased) for rate limits: one mailbox, one key.
    recipient_key: Mapped[str | None] = mapped_column(String(320))
    #: ``officer`` (a registered sender) or ``stranger``: notices to strangers have their own limits.
    audience: Mapped[str | None] = mapped_column(String(16))
    #: The reply's own Message-ID (without <>): a 【修改稿】 replying to a receipt names it in In-Reply-To.
    reply_message_id: Mapped[str] = mapped_column(String(998), index=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    #: pending → claimed → sending → sent; or failed (given up), suppressed (never to be sent), unknown
    #: (the daemon stopped while the server was taking the data: not resent, for ops to check).
    status: Mapped[str] = mapped_column(String(16))
    #: The outbox worker that claimed the reply (claimed and sending only): no other one sends it.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(64))  # why suppressed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class Failure(Base):
    """A message whose processing failed: retried a bounded number of times, then quarantined."""

    __tablename__ = "failures"
    __table_args__ = (UniqueConstraint("mailbox", "source_key", name="uq_failures_mailbox_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(998))
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)
    first_failed_at: Mapped[dt.datetime]
    last_failed_at: Mapped[dt.datetime]
    quarantined_at: Mapped[dt.datetime | None]
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Replayed by ops and filed with a verdict: no longer quarantined.
    released_at: Mapped[dt.datetime | None]


class CheckpointRow(Base):
    """How far a source has read a mailbox."""

    __tablename__ = "checkpoints"

    mailbox: Mapped[str] = mapped_column(String(64), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]


class Heartbeat(Base):
    """The last sign of life of a daemon component (an inbox watcher, the outbox worker)."""

    __tablename__ = "heartbeats"

    component: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[dt.datetime]
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UnitRow(Base):
    """A submitting unit of the registry."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    series: Mapped[str] = mapped_column(String(16))
    parent: Mapped[str | None] = mapped_column(String(128))


class OfficerRow(Base):
    """A registered information officer."""

    __tablename__ = "officers"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    unit: Mapped[str] = mapped_column(ForeignKey("units.id"))
    phone: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)


class Commission(Base):
    """A commissioned topic (约稿): items answering it carry its code."""

    __tablename__ = "commissions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]


class User(Base):
    """Someone who signs in to the desk: an editor, ops, or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # editor | ops | admin
    active: Mapped[bool] = mapped_column(default=True)
    #: Raised by log-out, password and role changes: sessions signed with an older version are void.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]


class ItemEvent(Base):
    """A change of an item's status by an editor, with a note: who, when, what."""

    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]


class Replay(Base):
    """A message run again through the current rules, and what that changed."""

    __tablename__ = "replays"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
    old_verdict: Mapped[str] = mapped_column(String(16))
    new_verdict: Mapped[str] = mapped_column(String(16))
    old_findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    new_findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: The reply queued because of the replay, if any.
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class Counter(Base):
    """A running total the daemon's work adds to in the same transaction (for /metrics, without scans)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
