"""The editors' intake queue: valid items, urgent first then newest, filtered and searched."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, tuple_

from mailgate.config import Settings
from mailgate.desk.paging import Page, decode_cursor, encode_cursor, fits_id
from mailgate.desk.search import matches, query_terms
from mailgate.desk.times import day_range, processed_apart
from mailgate.mail.folding import fold
from mailgate.store import Store
from mailgate.store.models import Item, ItemEvent, Message, Revision, UnitRow
from rules import Finding, RuleRegistry, Severity, default_rules, render

_CURSOR = "queue"
_CURSOR_SHAPE = (bool, dt.datetime, int)
#: A tracking number as units quote it: the filing date and the serial, its leading zeros optional.
_TRACKING = re.compile(r"([0-9]{8})-0*([0-9]{1,10})")

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
    since: dt.date | None = None  # last filed (its latest revision) on or after, a day in ``zone``
    until: dt.date | None = None  # last filed on or before
    #: Full-text search over title, 正文 and attachment text; a tracking number finds its item alone.
    text: str | None = None
    #: The units' time zone, which ``since`` and ``until`` are days of (required with either).
    zone: dt.tzinfo | None = None


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
    created_at: dt.datetime  # when the first revision was filed
    updated_at: dt.datetime  # when the current revision was filed
    #: When the message of the first and of the current revision arrived (from the source).
    first_received_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    #: The current revision's registered officer and the 落款 name as written.
    officer: str | None = None
    author: str | None = None

    @property
    def processed_apart(self) -> dt.datetime | None:
        """When the current revision was filed, if that is more than a minute from its arrival."""
        return processed_apart(self.received_at, self.updated_at)

    @property
    def signed_name(self) -> str | None:
        """The 落款 name, when it is not the registered officer's (or there is none)."""
        return signed_name(self.officer, self.author)


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
    created_at: dt.datetime  # when it was filed
    #: When its message arrived (from the source).
    received_at: dt.datetime | None = None
    #: The 落款 name as written (``officer`` is the registered sender).
    author: str | None = None
    #: The warnings the revision's message got: (rule, message as the sender received it).
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def processed_apart(self) -> dt.datetime | None:
        """When it was filed, if that is more than a minute from its arrival."""
        return processed_apart(self.received_at, self.created_at)

    @property
    def signed_name(self) -> str | None:
        """The 落款 name, when it is not the registered officer's (or there is none)."""
        return signed_name(self.officer, self.author)


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
    """One page of the queue, urgent first then newest (by last update), keyset-paginated.

    ``cursor`` is a page's ``next_cursor`` (ValueError when it is not one, or for days out of range).
    ``total`` is counted on the first page only (``cursor`` None). A search for a tracking number
    that an item (within the other filters) has finds that item alone."""
    after = decode_cursor(_CURSOR, cursor, _CURSOR_SHAPE) if cursor else None
    limit = max(1, limit)
    conditions = _conditions(where)
    tracking = tracking_number_of(where.text) if where.text else None
    dialect = store.engine.dialect.name
    words = query_terms(where.text or "")
    matching = select(Item.id, Item.urgent, Item.updated_at).where(*conditions)
    if words:
        matching = matching.where(matches(dialect, Item.search_text, Item.id, words))
    keys: Any = Item
    if words and dialect == "postgresql":
        # Overlapping bigrams are far from independent, so PostgreSQL underestimates the matches and
        # would walk the whole queue testing each item: collect the matches first, then order them.
        keys = matching.cte("matching").prefix_with("MATERIALIZED").c
        page = select(keys.id)
    else:
        page = matching.with_only_columns(Item.id)
    order = (keys.urgent.desc(), keys.updated_at.desc(), keys.id.desc())
    page = page.order_by(*order).limit(limit + 1)
    if after is not None:
        page = page.where(tuple_(keys.urgent, keys.updated_at, keys.id) < tuple_(*after))
    async with store.reading() as repo:
        session = repo.session
        exact = None
        if tracking is not None:
            exact = await session.scalar(select(Item.id).where(Item.tracking == tracking, *conditions))
        if exact is not None:
            # A one-row list: the page after it is empty.
            ids, more = ([] if after is not None else [exact]), False
            total = None if after is not None else 1
        else:
            ids = list((await session.scalars(page)).all())
            more, ids = len(ids) > limit, ids[:limit]
            total = None
            if after is None:
                total = int(await session.scalar(select(func.count()).select_from(matching.subquery())) or 0)
        found = {
            r.id: r
            for r in await session.execute(
                select(*_ROW_COLUMNS).outerjoin(UnitRow, UnitRow.id == Item.unit_id).where(Item.id.in_(ids))
            )
        }
        current = await _current_revisions(session, ids)
    rows = [_queue_row(found[i], current.get(i)) for i in ids if i in found]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(_CURSOR, (last.urgent, last.updated_at, last.id))
    return Page(rows, next_cursor, total)


def tracking_number_of(text: str) -> str | None:
    """The stored tracking number ``text`` is, leading zeros of the serial optional
    (``20261202-7`` and ``20261202-0007`` are ``20261202-000007``); None when it is not one."""
    found = _TRACKING.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if found is None:
        return None
    serial = int(found.group(2))
    return f"{found.group(1)}-{serial:06d}" if fits_id(serial) else None


async def find_item(store: Store, reference: str) -> int | None:
    """The id of the item ``reference`` names: its tracking number (as ``tracking_number_of`` reads
    it) or its id; None when there is none."""
    value = reference.strip()
    tracking = tracking_number_of(value)
    async with store.reading() as repo:
        if tracking is not None:
            return await repo.session.scalar(select(Item.id).where(Item.tracking == tracking))
        if value.isascii() and value.isdigit() and fits_id(int(value)):
            return await repo.session.scalar(select(Item.id).where(Item.id == int(value)))
    return None


async def item_detail(store: Store, item_id: int, *, settings: Settings) -> ItemDetail | None:
    """An item with every revision (and its warnings, as the sender read them in the receipt) and
    every status change, oldest first."""
    if not fits_id(item_id):
        return None
    async with store.reading() as repo:
        session = repo.session
        row = (
            await session.execute(
                select(*_ROW_COLUMNS).outerjoin(UnitRow, UnitRow.id == Item.unit_id).where(Item.id == item_id)
            )
        ).first()
        if row is None:
            return None
        revisions = list(
            (
                await session.execute(
                    select(Revision, Message.findings, Message.received_at)
                    .join(Message, Message.id == Revision.message_pk)
                    .where(Revision.item_id == item_id)
                    .order_by(Revision.number)
                )
            ).all()
        )
        events = list(
            (
                await session.scalars(
                    select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.at, ItemEvent.id)
                )
            ).all()
        )
    views = [_revision_view(r, findings, received, settings) for r, findings, received in revisions]
    current = None
    if views:
        latest = views[-1]
        current = _Current(
            number=latest.number,
            body_zi=latest.body_zi,
            has_attachment=latest.attachment_name is not None or latest.attachment_zi is not None,
            officer=latest.officer,
            author=latest.author,
            received_at=latest.received_at,
            first_received_at=views[0].received_at,
        )
    return ItemDetail(
        row=_queue_row(row, current),
        revisions=views,
        events=[EventView(e.status, e.previous, e.note, e.username, e.at) for e in events],
    )


async def set_status(
    store: Store, item_id: int, status: str, note: str, username: str, *, now: dt.datetime
) -> None:
    """Change an item's status at ``now``, recording who and why (ValueError for an unknown status
    or item)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if not fits_id(item_id):
        raise ValueError(f"no item {item_id}")
    async with store.transaction() as repo:
        item = await repo.session.scalar(select(Item).where(Item.id == item_id).with_for_update())
        if item is None:
            raise ValueError(f"no item {item_id}")
        repo.session.add(
            ItemEvent(
                item_id=item_id, status=status, previous=item.status, note=note, username=username, at=now
            )
        )
        item.status = status


def signed_name(officer: str | None, author: str | None) -> str | None:
    """``author`` (the 落款 name) when there is no registered ``officer`` or it names someone else
    (after folding width and script: 張三 is 张三)."""
    if not author or not author.strip():
        return None
    if officer and fold(officer) == fold(author):
        return None
    return author.strip()


def findings_with_messages(
    findings: Sequence[Mapping[str, Any]], settings: Settings
) -> list[dict[str, object]]:
    """Stored findings with the sentence each one's rule said to the sender: the operator's
    overrides and the configured script applied, as in the reply."""
    out: list[dict[str, object]] = []
    overrides, traditional = settings.rules.messages, settings.script == "zh-Hant"
    for stored in findings:
        finding = _finding(stored)
        out.append(
            {
                "rule": finding.rule,
                "severity": finding.severity.value,
                "reason": finding.reason,
                "params": dict(finding.params),
                "message": render(finding, _rules(), overrides=overrides, traditional=traditional),
            }
        )
    return out


_ROW_COLUMNS = (
    Item.id,
    Item.tracking,
    Item.title,
    Item.unit_id,
    UnitRow.name.label("unit_name"),
    UnitRow.series,
    Item.inbox,
    Item.urgent,
    Item.status,
    Item.commission_code,
    Item.late,
    Item.created_at,
    Item.updated_at,
)


@dataclass(frozen=True, slots=True)
class _Current:
    """What a queue row shows of an item's revisions: the current one, and when the first arrived."""

    number: int
    body_zi: int
    has_attachment: bool
    officer: str | None
    author: str | None
    received_at: dt.datetime | None
    first_received_at: dt.datetime | None


def _conditions(where: QueueFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions on ``items`` alone (full-text search aside); ValueError for days out
    of range or without a zone."""
    conditions: list[ColumnElement[bool]] = []
    if where.unit is not None:
        conditions.append(Item.unit_id == where.unit)
    if where.series is not None:
        conditions.append(Item.unit_id.in_(select(UnitRow.id).where(UnitRow.series == where.series)))
    if where.inbox is not None:
        conditions.append(Item.inbox == where.inbox)
    if where.commission is not None:
        conditions.append(Item.commission_code == where.commission)
    if where.status is not None:
        conditions.append(Item.status == where.status)
    start, end = day_range(where.since, where.until, where.zone)
    if start is not None:
        conditions.append(Item.updated_at >= start)
    if end is not None:
        conditions.append(Item.updated_at < end)
    return conditions


async def _current_revisions(session: Any, item_ids: list[int]) -> dict[int, _Current]:
    """The current revision of each item (whose number is also the count of revisions), and when
    the message of its first revision arrived."""
    if not item_ids:
        return {}
    newest = (
        select(Revision.item_id, func.max(Revision.number).label("number"))
        .where(Revision.item_id.in_(item_ids))
        .group_by(Revision.item_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Revision.item_id,
            Revision.number,
            newest.c.number.label("latest"),
            Revision.body_zi,
            Revision.attachment_name,
            Revision.attachment_zi,
            Revision.officer,
            Revision.author,
            Message.received_at,
        )
        .join(newest, Revision.item_id == newest.c.item_id)
        .join(Message, Message.id == Revision.message_pk)
        .where(or_(Revision.number == 1, Revision.number == newest.c.number))
    )
    first: dict[int, dt.datetime] = {}
    latest: dict[int, Any] = {}
    for row in rows:
        if row.number == 1:
            first[row.item_id] = row.received_at
        if row.number == row.latest:
            latest[row.item_id] = row
    return {
        item_id: _Current(
            number=row.number,
            body_zi=row.body_zi,
            has_attachment=row.attachment_name is not None or row.attachment_zi is not None,
            officer=row.officer,
            author=row.author,
            received_at=row.received_at,
            first_received_at=first.get(item_id),
        )
        for item_id, row in latest.items()
    }


def _queue_row(row: Any, current: _Current | None) -> QueueRow:
    return QueueRow(
        id=row.id,
        tracking=row.tracking,
        title=row.title,
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        series=row.series,
        inbox=row.inbox,
        urgent=row.urgent,
        status=row.status,
        revisions=current.number if current else 0,
        body_zi=current.body_zi if current else 0,
        has_attachment=current is not None and current.has_attachment,
        commission_code=row.commission_code,
        late=row.late,
        created_at=row.created_at,
        updated_at=row.updated_at,
        first_received_at=current.first_received_at if current else None,
        received_at=current.received_at if current else None,
        officer=current.officer if current else None,
        author=current.author if current else None,
    )


def _revision_view(
    revision: Revision,
    findings: Sequence[Mapping[str, Any]] | None,
    received_at: dt.datetime | None,
    settings: Settings,
) -> RevisionView:
    warnings = [
        (str(f["rule"]), str(f["message"]))
        for f in findings_with_messages(findings or [], settings)
        if f["severity"] == Severity.WARN.value
    ]
    return RevisionView(
        number=revision.number,
        message_pk=revision.message_pk,
        title=revision.title,
        body=revision.body,
        source=revision.source,
        attachment_name=revision.attachment_name,
        attachment_text=revision.attachment_text,
        body_zi=revision.body_zi,
        attachment_zi=revision.attachment_zi,
        counting=revision.counting,
        officer=revision.officer,
        author_unit=revision.author_unit,
        phone=revision.phone,
        signed_on=revision.signed_on,
        created_at=revision.created_at,
        received_at=received_at,
        author=revision.author,
        warnings=warnings,
    )


@functools.cache
def _rules() -> RuleRegistry:
    return default_rules()


def _finding(stored: Mapping[str, Any]) -> Finding:
    """A stored finding as the rules made it (an unknown severity reads as a rejection)."""
    try:
        severity = Severity(str(stored.get("severity")))
    except ValueError:
        severity = Severity.REJECT
    params = stored.get("params")
    return Finding(
        rule=str(stored.get("rule", "")),
        severity=severity,
        reason=str(stored.get("reason") or "default"),
        params=params if isinstance(params, Mapping) else {},
    )
