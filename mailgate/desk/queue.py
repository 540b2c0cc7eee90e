"""The editors' intake queue: valid items, urgent first then newest, filtered and searched."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mailgate.desk.paging import Page
from mailgate.store import Store

#: An item's status on the desk, in the order editors move it along.
STATUSES: tuple[str, ...] = ("new", "review", "used", "unused")
STATUS_LABELS = {"new": "新稿", "review": "审阅中", "used": "已采用", "unused": "未采用"}


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows; every field optional."""

    unit: str | None = None  # unit id
    series: str | None = None  # district | dept-a | dept-b | direct
    inbox: str | None = None  # daily | commissioned
    commission: str | None = None  # commission code
    status: str | None = None
    since: dt.date | None = None  # filed on or after (units' time zone)
    until: dt.date | None = None  # filed on or before
    text: str | None = None  # full-text search over title, 正文 and attachment text


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    tracking: str
    title: str
    unit_id: str
    unit_name: str | None
    series: str | None
    inbox: str
    urgent: bool
    status: str
    revisions: int
    body_zi: int
    has_attachment: bool
    commission_code: str | None
    late: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RevisionView:
    number: int
    message_pk: int
    title: str
    body: str
    source: str | None
    attachment_name: str | None
    attachment_text: str | None
    body_zi: int
    attachment_zi: int | None
    counting: str
    officer: str | None
    author_unit: str | None
    phone: str | None
    signed_on: dt.date | None
    created_at: dt.datetime
    #: The warnings the revision's message got: (rule, rendered message).
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EventView:
    status: str
    previous: str
    note: str
    username: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class ItemDetail:
    row: QueueRow
    revisions: list[RevisionView]  # oldest first
    events: list[EventView]  # oldest first


async def list_queue(
    store: Store, where: QueueFilter, *, cursor: str | None = None, limit: int = 50
) -> Page[QueueRow]:
    """One page of the queue, urgent first then newest (by last update), keyset-paginated."""
    raise NotImplementedError


async def item_detail(store: Store, item_id: int) -> ItemDetail | None:
    raise NotImplementedError


async def set_status(store: Store, item_id: int, status: str, note: str, username: str) -> None:
    """Change an item's status, recording who, when and why (ValueError for an unknown status or item)."""
    raise NotImplementedError
