"""The editors' intake queue: valid items, urgent first then newest, filtered and searched."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_

from mailgate.desk.paging import Page, decode_cursor, encode_cursor
from mailgate.desk.search import matches, query_terms
from mailgate.store import Store
from mailgate.store.models import Item, ItemEvent, Message, Revision, UnitRow
from rules import Finding, RuleRegistry, Severity, default_rules, render

#: The units' time zone: date filters are whole days there.
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
_CURSOR = "queue"
_CURSOR_SHAPE = (bool, dt.datetime, int)

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
    since: dt.date | None = None  # last filed (its latest revision) on or after (units' time zone)
    until: dt.date | None = None  # last filed on or before
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
    """One page of the queue, urgent first then newest (by last update), keyset-paginated.

    ``cursor`` is a page's ``next_cursor`` (ValueError when it is not one). ``total`` is counted on
    the first page only (``cursor`` None)."""
    after = decode_cursor(_CURSOR, cursor, _CURSOR_SHAPE) if cursor else None
    limit = max(1, limit)
    dialect = store.engine.dialect.name
    words = query_terms(where.text or "")
    matching = select(Item.id, Item.urgent, Item.updated_at).where(*_conditions(where))
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
        ids = list((await session.scalars(page)).all())
        more, ids = len(ids) > limit, ids[:limit]
        found = {
            r.id: r
            for r in await session.execute(
                select(*_ROW_COLUMNS).outerjoin(UnitRow, UnitRow.id == Item.unit_id).where(Item.id.in_(ids))
            )
        }
        latest = await _latest_revisions(session, ids)
        total = None
        if after is None:
            total = int(await session.scalar(select(func.count()).select_from(matching.subquery())) or 0)
    rows = [_queue_row(found[i], latest.get(i)) for i in ids if i in found]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(_CURSOR, (last.urgent, last.updated_at, last.id))
    return Page(rows, next_cursor, total)


async def item_detail(store: Store, item_id: int) -> ItemDetail | None:
    """An item with every revision (and its warnings) and every status change, oldest first."""
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
                    select(Revision, Message.findings)
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
    latest = revisions[-1][0] if revisions else None
    return ItemDetail(
        row=_queue_row(row, latest),
        revisions=[_revision_view(revision, findings) for revision, findings in revisions],
        events=[EventView(e.status, e.previous, e.note, e.username, e.at) for e in events],
    )


async def set_status(store: Store, item_id: int, status: str, note: str, username: str) -> None:
    """Change an item's status, recording who, when and why (ValueError for an unknown status or item)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    async with store.transaction() as repo:
        item = await repo.session.scalar(select(Item).where(Item.id == item_id).with_for_update())
        if item is None:
            raise ValueError(f"no item {item_id}")
        repo.session.add(
            ItemEvent(
                item_id=item_id,
                status=status,
                previous=item.status,
                note=note,
                username=username,
                at=dt.datetime.now(dt.UTC),
            )
        )
        item.status = status


def day_range(since: dt.date | None, until: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The instants [start, end) covering the days ``since`` to ``until`` (inclusive) in ``ZONE``."""
    start = dt.datetime.combine(since, dt.time(), ZONE).astimezone(dt.UTC) if since else None
    end = None
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), ZONE).astimezone(dt.UTC)
    return start, end


def findings_with_messages(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, object]]:
    """Stored findings with the sentence each one's rule says to the sender."""
    out: list[dict[str, object]] = []
    for stored in findings:
        finding = _finding(stored)
        out.append(
            {
                "rule": finding.rule,
                "severity": finding.severity.value,
                "reason": finding.reason,
                "params": dict(finding.params),
                "message": render(finding, _rules()),
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


def _conditions(where: QueueFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions on ``items`` alone (full-text search aside)."""
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
    start, end = day_range(where.since, where.until)
    if start is not None:
        conditions.append(Item.updated_at >= start)
    if end is not None:
        conditions.append(Item.updated_at < end)
    return conditions


async def _latest_revisions(session: Any, item_ids: list[int]) -> dict[int, Revision]:
    """The current revision of each item (whose number is also the count of revisions)."""
    if not item_ids:
        return {}
    newest = (
        select(Revision.item_id, func.max(Revision.number).label("number"))
        .where(Revision.item_id.in_(item_ids))
        .group_by(Revision.item_id)
        .subquery()
    )
    revisions = await session.scalars(
        select(Revision).join(
            newest, (Revision.item_id == newest.c.item_id) & (Revision.number == newest.c.number)
        )
    )
    return {r.item_id: r for r in revisions}


def _queue_row(row: Any, latest: Revision | None) -> QueueRow:
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
        revisions=latest.number if latest else 0,
        body_zi=latest.body_zi if latest else 0,
        has_attachment=latest is not None
        and (latest.attachment_name is not None or latest.attachment_zi is not None),
        commission_code=row.commission_code,
        late=row.late,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _revision_view(revision: Revision, findings: Sequence[Mapping[str, Any]] | None) -> RevisionView:
    warnings = [
        (str(f["rule"]), str(f["message"]))
        for f in findings_with_messages(findings or [])
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
