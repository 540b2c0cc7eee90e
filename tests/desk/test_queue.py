"""The editors' queue: order, filters, keyset pages, item detail and audited status changes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import BODY, TITLE, submission
from sqlalchemy import select, update

from desk.data import ARRIVAL, YUEXIU, YUEXIU_BODY, Desk, with_word
from mailgate.config import Settings
from mailgate.desk.paging import decode_cursor, encode_cursor
from mailgate.desk.queue import (
    QueueFilter,
    find_item,
    item_detail,
    list_queue,
    set_status,
    tracking_number_of,
)
from mailgate.mail.folding import to_simplified
from mailgate.store._search import FTS_UPSERT, terms
from mailgate.store.models import Item, Revision, UnitRow
from mailgate.store.registry import add_commission

SHAPE = (bool, dt.datetime, int)
GUANGZHOU = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.timedelta(days=1)


async def _titles(desk: Desk, where: QueueFilter) -> list[str]:
    page = await list_queue(desk.store, where)
    assert page.total == len(page.rows)
    return [row.title for row in page.rows]


@pytest.fixture
async def filed(desk: Desk) -> dict[str, int]:
    """Three items through the pipeline: a daily one, an urgent one, a commissioned one with Word."""
    await add_commission(desk.store, "QX2026", "垃圾分类", ARRIVAL + dt.timedelta(days=3))
    daily = await desk.accepted(submission(1))
    body = YUEXIU_BODY.format(title="越秀区老城区微改造", date="2026年11月26日")
    urgent = await desk.accepted(
        submission(2, title="越秀区老城区微改造", markers="【紧急】", body=body, **YUEXIU)
    )
    commissioned = await desk.accepted(
        with_word(
            submission(3, title="天河区垃圾分类工作情况", markers="【约稿:QX2026】"), "垃圾分类详细材料"
        ),
        inbox="commissioned",
    )
    return {"daily": daily, "urgent": urgent, "commissioned": commissioned}


async def test_urgent_first_then_newest(desk: Desk, filed: dict[str, int]) -> None:
    page = await list_queue(desk.store, QueueFilter())
    assert [row.id for row in page.rows] == [filed["urgent"], filed["commissioned"], filed["daily"]]
    assert page.next_cursor is None
    assert page.total == 3
    urgent, commissioned, daily = page.rows
    assert urgent.urgent
    assert urgent.unit_name == "越秀区人民政府办公室"
    assert urgent.series == "district"
    assert (commissioned.commission_code, commissioned.inbox, commissioned.late) == (
        "QX2026",
        "commissioned",
        False,
    )
    assert commissioned.has_attachment
    assert not daily.has_attachment
    assert daily.revisions == 1
    assert daily.body_zi > 0
    assert daily.status == "new"


async def test_filters(desk: Desk, filed: dict[str, int]) -> None:
    async with desk.store.transaction() as repo:
        repo.session.add(UnitRow(id="市公安局", name="广州市公安局", aliases=[], series="dept-a"))
    await desk.bulk_items(2, unit="市公安局")
    assert await _titles(desk, QueueFilter(unit="越秀区")) == ["越秀区老城区微改造"]
    assert await _titles(desk, QueueFilter(series="dept-a")) == ["批量信息第1号", "批量信息第0号"]
    assert len(await _titles(desk, QueueFilter(series="district"))) == 3
    assert await _titles(desk, QueueFilter(series="direct")) == []
    assert await _titles(desk, QueueFilter(inbox="commissioned")) == ["天河区垃圾分类工作情况"]
    assert await _titles(desk, QueueFilter(commission="QX2026")) == ["天河区垃圾分类工作情况"]
    assert await _titles(desk, QueueFilter(commission="QX1999")) == []
    assert await _titles(desk, QueueFilter(unit="天河区", text="垃圾分类")) == ["天河区垃圾分类工作情况"]
    assert await _titles(desk, QueueFilter(unit="越秀区", text="垃圾分类")) == []
    assert await _titles(desk, QueueFilter(series="district", inbox="daily", text="天河")) == [
        "天河区推进智慧城市建设取得新进展"
    ]
    await set_status(desk.store, filed["daily"], "used", "", "editor", now=desk.clock.now())
    assert await _titles(desk, QueueFilter(status="used")) == ["天河区推进智慧城市建设取得新进展"]
    assert len(await _titles(desk, QueueFilter(status="new"))) == 4


async def test_dates_are_whole_days_in_guangzhou(desk: Desk) -> None:
    late_evening, after_midnight = await desk.bulk_items(2)
    await desk.set_times(late_evening, dt.datetime(2026, 11, 25, 15, 59, tzinfo=dt.UTC))  # 23:59, 25th
    await desk.set_times(
        after_midnight, dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC)
    )  # 00:30 on the 26th
    day = dt.date(2026, 11, 26)
    assert await _titles(desk, QueueFilter(since=day, until=day, zone=GUANGZHOU)) == ["批量信息第1号"]
    assert await _titles(desk, QueueFilter(until=day - DAY, zone=GUANGZHOU)) == ["批量信息第0号"]
    assert await _titles(desk, QueueFilter(since=day, zone=GUANGZHOU)) == ["批量信息第1号"]
    assert await _titles(desk, QueueFilter(since=day + DAY, zone=GUANGZHOU)) == []
    assert len(await _titles(desk, QueueFilter(since=day - DAY, until=day, zone=GUANGZHOU))) == 2


async def test_dates_are_days_in_the_zone_given(desk: Desk) -> None:
    (item,) = await desk.bulk_items(1)
    await desk.set_times(item, dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC))  # 04:00 on the 26th here
    day = dt.date(2026, 11, 25)
    assert await _titles(desk, QueueFilter(since=day, until=day, zone=GUANGZHOU)) == []
    assert await _titles(desk, QueueFilter(since=day, until=day, zone=dt.UTC)) == ["批量信息第0号"]
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")  # 21:00 on the 25th there
    assert await _titles(desk, QueueFilter(since=day, until=day, zone=berlin)) == ["批量信息第0号"]
    with pytest.raises(ValueError, match="zone"):  # days without a zone mean nothing
        await list_queue(desk.store, QueueFilter(since=day))


async def test_days_at_the_ends_of_the_calendar(desk: Desk) -> None:
    await desk.bulk_items(1)
    first, last = dt.date(1, 1, 1), dt.date(9999, 12, 31)
    for where in (QueueFilter(since=first, zone=GUANGZHOU), QueueFilter(until=last, zone=GUANGZHOU)):
        with pytest.raises(ValueError, match="out of range"):
            await list_queue(desk.store, where)
    # The days just inside still work, on both databases.
    wide = QueueFilter(since=dt.date(1, 1, 2), until=dt.date(9999, 12, 30), zone=GUANGZHOU)
    assert await _titles(desk, wide) == ["批量信息第0号"]


async def _all_pages(desk: Desk, where: QueueFilter, limit: int) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = await list_queue(desk.store, where, cursor=cursor, limit=limit)
        assert len(page.rows) <= limit
        assert (page.total is None) == (cursor is not None)  # counted on the first page
        ids.extend(row.id for row in page.rows)
        if page.next_cursor is None:
            return ids
        assert len(page.rows) == limit
        cursor = page.next_cursor


async def test_pages_cover_the_queue_once_in_order_despite_ties(desk: Desk) -> None:
    tied = await desk.bulk_items(23, urgent_every=5)  # one instant for all: the id breaks ties
    older = await desk.bulk_items(4, at=ARRIVAL - dt.timedelta(hours=1), urgent_every=2)
    urgent = {i for n, i in enumerate(tied) if n % 5 == 0} | {i for n, i in enumerate(older) if n % 2 == 0}
    expected = sorted(tied + older, key=lambda i: (i in urgent, i in tied, i), reverse=True)
    for limit in (1, 4, 27, 50):
        assert await _all_pages(desk, QueueFilter(), limit) == expected
    filtered = await _all_pages(desk, QueueFilter(text="批量信息"), 5)
    assert filtered == expected


async def test_new_items_while_paging_neither_repeat_nor_skip_rows(desk: Desk) -> None:
    ids = await desk.bulk_items(10)
    first = await list_queue(desk.store, QueueFilter(), limit=4)
    await desk.bulk_items(3, at=ARRIVAL + dt.timedelta(minutes=1))  # newer: they go before page 1
    rest: list[int] = []
    cursor = first.next_cursor
    while cursor is not None:
        page = await list_queue(desk.store, QueueFilter(), cursor=cursor, limit=4)
        rest.extend(row.id for row in page.rows)
        cursor = page.next_cursor
    assert [row.id for row in first.rows] + rest == sorted(ids, reverse=True)


#: Cursors no page ever gave out.
TAMPERED = [
    "=",
    "!!!",
    "not base64 at all ☃",
    base64.urlsafe_b64encode(b"{}").decode(),
    base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
    encode_cursor("log", (ARRIVAL, "message", 3)),  # another list's cursor
    encode_cursor("queue", (1, ARRIVAL, 3)),  # an int where a bool belongs
    encode_cursor("queue", (True, ARRIVAL, True)),  # a bool where an int belongs
    encode_cursor("queue", (True, ARRIVAL, 2**40)),  # beyond any id
    encode_cursor("queue", (True, "2026-11-26", 3)),
    base64.urlsafe_b64encode(json.dumps(["queue", True, {"t": "2026-11-26T10:00"}, 3]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(["queue", True, {"t": "yesterday"}, 3]).encode()).decode(),
    encode_cursor("queue", (True, ARRIVAL, 3))[:-3],
    encode_cursor("queue", (True, ARRIVAL, 2**63)),  # beyond 64 bits
    encode_cursor("queue", (True, ARRIVAL, -(2**31) - 1)),
    # An instant with no UTC reading: the store binds times in UTC.
    base64.urlsafe_b64encode(
        json.dumps(["queue", True, {"t": "0001-01-01T00:00+14:00"}, 3]).encode()
    ).decode(),
    base64.urlsafe_b64encode(
        json.dumps(["queue", True, {"t": "9999-12-31T23:59-14:00"}, 3]).encode()
    ).decode(),
    base64.urlsafe_b64encode(b"[" * 100_000).decode(),  # too deep for the JSON parser, and too long
    base64.urlsafe_b64encode(b"[" * 300).decode(),  # deep, and short enough
    "A" * 10_000,
]


async def test_a_tampered_cursor_is_a_value_error(desk: Desk) -> None:
    await desk.bulk_items(2)
    for cursor in TAMPERED:
        with pytest.raises(ValueError, match="cursor"):
            await list_queue(desk.store, QueueFilter(), cursor=cursor)


@given(st.booleans(), st.datetimes(timezones=st.just(dt.UTC)), st.integers(0, 2**31 - 1))
def test_cursors_round_trip(urgent: bool, at: dt.datetime, item_id: int) -> None:
    assert decode_cursor("queue", encode_cursor("queue", (urgent, at, item_id)), SHAPE) == (
        urgent,
        at,
        item_id,
    )


@given(st.text())
def test_any_text_is_a_cursor_or_a_value_error(value: str) -> None:
    try:
        key = decode_cursor("queue", value, SHAPE)
    except ValueError:
        return
    assert [type(v) for v in key] == list(SHAPE)


async def test_item_detail_has_revisions_with_warnings_and_events(desk: Desk) -> None:
    stale = submission(1, body=BODY.format(title=TITLE).replace("2026年11月26日", "2026年11月10日"))
    item_id = await desk.accepted(stale)
    revised = with_word(submission(2, markers="【修改稿】"), "补充材料：智慧城市项目清单")
    assert await desk.accepted(revised) == item_id
    await set_status(desk.store, item_id, "review", "请核实数据", "wang", now=desk.clock.now())
    await set_status(desk.store, item_id, "used", "采用于第12期", "li", now=desk.clock.now())
    detail = await item_detail(desk.store, item_id, settings=desk.settings)
    assert detail is not None
    assert detail.row.revisions == 2
    assert detail.row.has_attachment
    assert detail.row.status == "used"
    first, second = detail.revisions
    assert (first.number, second.number) == (1, 2)
    assert first.signed_on == dt.date(2026, 11, 10)
    assert [rule for rule, _ in first.warnings] == ["stale-date"]
    assert "日期" in first.warnings[0][1]  # the rendered message, not a rule id
    assert second.warnings == []
    assert second.attachment_text is not None
    assert "项目清单" in second.attachment_text
    assert first.attachment_text is None
    assert first.officer == "张三"
    assert (first.author, first.signed_name) == ("张三", None)  # the 落款 names the officer: said once
    assert first.received_at == second.received_at == ARRIVAL
    assert [(e.previous, e.status, e.note, e.username) for e in detail.events] == [
        ("new", "review", "请核实数据", "wang"),
        ("review", "used", "采用于第12期", "li"),
    ]
    assert [e.at for e in detail.events] == [desk.clock.now()] * 2  # the clock given, not the machine's
    assert await item_detail(desk.store, item_id + 100, settings=desk.settings) is None


async def test_set_status_refuses_unknown_statuses_and_items(desk: Desk) -> None:
    (item_id,) = await desk.bulk_items(1)
    with pytest.raises(ValueError, match="status"):
        await set_status(desk.store, item_id, "published", "", "wang", now=desk.clock.now())
    with pytest.raises(ValueError, match="item"):
        await set_status(desk.store, item_id + 1, "used", "", "wang", now=desk.clock.now())
    detail = await item_detail(desk.store, item_id, settings=desk.settings)
    assert detail is not None
    assert detail.row.status == "new"
    assert detail.events == []


async def test_arrival_and_filing_times(desk: Desk) -> None:
    """The rows say when the message arrived (from the source) and, a minute or more apart, when it
    was filed; a revision's arrival is the current one, the first revision's stays."""
    earlier = ARRIVAL - dt.timedelta(hours=3)  # fetched late: filed at the desk clock's time
    item_id = await desk.accepted(submission(1, at=earlier), received_at=earlier)
    (row,) = (await list_queue(desk.store, QueueFilter())).rows
    assert (row.received_at, row.first_received_at) == (earlier, earlier)
    assert row.updated_at == desk.clock.now()
    assert row.processed_apart == desk.clock.now()
    desk.clock.advance(dt.timedelta(seconds=50))
    revised = desk.clock.now() - dt.timedelta(seconds=30)  # filed 30 s after it arrived: one time only
    assert (
        await desk.accepted(submission(2, markers="【修改稿】", at=revised), received_at=revised) == item_id
    )
    (row,) = (await list_queue(desk.store, QueueFilter())).rows
    assert (row.first_received_at, row.received_at) == (earlier, revised)
    assert row.processed_apart is None
    detail = await item_detail(desk.store, item_id, settings=desk.settings)
    assert detail is not None
    first, second = detail.revisions
    assert (first.received_at, first.processed_apart) == (earlier, ARRIVAL + dt.timedelta(minutes=5))
    assert (second.received_at, second.processed_apart) == (revised, None)
    assert detail.row.received_at == revised


async def test_the_signed_name_is_shown_when_it_is_not_the_officer(desk: Desk) -> None:
    body = BODY.format(title=TITLE).replace("姓名：张三", "姓名：王五")
    other = await desk.accepted(submission(1, body=body))
    same_in_traditional = BODY.format(title="天河区举办科技创新大会").replace("姓名：张三", "姓名：張三")
    same = await desk.accepted(submission(2, title="天河区举办科技创新大会", body=same_in_traditional))
    rows = {row.id: row for row in (await list_queue(desk.store, QueueFilter())).rows}
    assert (rows[other].officer, rows[other].author, rows[other].signed_name) == ("张三", "王五", "王五")
    assert (rows[same].officer, rows[same].signed_name) == ("张三", None)
    detail = await item_detail(desk.store, other, settings=desk.settings)
    assert detail is not None
    assert detail.revisions[0].signed_name == "王五"
    (bulk,) = await desk.bulk_items(1)
    async with desk.store.transaction() as repo:  # no registered officer: the 落款 name is all there is
        await repo.session.execute(update(Revision).where(Revision.item_id == bulk).values(author="赵六"))
    detail = await item_detail(desk.store, bulk, settings=desk.settings)
    assert detail is not None
    assert (detail.revisions[0].officer, detail.revisions[0].signed_name) == (None, "赵六")


async def test_a_tracking_number_finds_its_item_alone(desk: Desk) -> None:
    ids = await desk.bulk_items(12)
    async with desk.store.transaction() as repo:
        tracking = {
            row.id: row.tracking for row in await repo.session.execute(select(Item.id, Item.tracking))
        }
    wanted = ids[6]
    number = tracking[wanted]
    date, serial = number.split("-")
    assert serial == f"{wanted:06d}"
    # Other items mention the number in their text: the exact match still comes alone.
    async with desk.store.transaction() as repo:
        text = terms(f"参见 {number}")
        await repo.session.execute(update(Item).where(Item.id == ids[0]).values(search_text=text))
        if desk.store.engine.dialect.name == "sqlite":
            await repo.session.execute(FTS_UPSERT, {"id": ids[0], "search_text": text})
    for query in (number, f"{date}-{wanted}", f"{date}-00{wanted}", f" {number} ", "２０" + number[2:]):
        page = await list_queue(desk.store, QueueFilter(text=query))
        assert ([r.id for r in page.rows], page.total, page.next_cursor) == ([wanted], 1, None), query
    assert (await list_queue(desk.store, QueueFilter(text=number, unit="越秀区"))).rows == []
    # No item has it: the words are searched as usual (the item that mentions it).
    absent = f"{date}-999999"
    assert [r.id for r in (await list_queue(desk.store, QueueFilter(text=absent))).rows] == []
    assert [r.id for r in (await list_queue(desk.store, QueueFilter(text=f"参见 {number}"))).rows] == [ids[0]]
    assert await find_item(desk.store, f"{date}-{wanted}") == wanted
    assert await find_item(desk.store, str(wanted)) == wanted
    for missing in (absent, "20261126-", "2026112-7", str(2**64), "-1", "٣", ""):
        assert await find_item(desk.store, missing) is None, missing
    assert tracking_number_of(f"{date}-{2**40}") is None  # no id that large


async def test_ids_beyond_the_columns_name_nothing(desk: Desk) -> None:
    (item_id,) = await desk.bulk_items(1)
    for huge in (2**31, 2**63, 2**64 + 1):
        assert await item_detail(desk.store, huge, settings=desk.settings) is None
        with pytest.raises(ValueError, match="no item"):
            await set_status(desk.store, huge, "used", "", "wang", now=desk.clock.now())
    assert (await item_detail(desk.store, item_id, settings=desk.settings)) is not None


async def test_warnings_read_as_the_receipt_said_them(desk: Desk) -> None:
    stale = submission(1, body=BODY.format(title=TITLE).replace("2026年11月26日", "2026年11月10日"))
    item_id = await desk.accepted(stale)
    overridden = Settings(rules={"messages": {"stale-date": "落款日期请更新为发稿当天（{date}）"}})
    detail = await item_detail(desk.store, item_id, settings=overridden)
    assert detail is not None
    assert detail.revisions[0].warnings == [("stale-date", "落款日期请更新为发稿当天（2026年11月10日）")]
    traditional = await item_detail(desk.store, item_id, settings=Settings(script="zh-Hant"))
    assert traditional is not None
    ((_, message),) = traditional.revisions[0].warnings
    plain = await item_detail(desk.store, item_id, settings=desk.settings)
    assert plain is not None
    assert message != plain.revisions[0].warnings[0][1]
    assert to_simplified(message) == plain.revisions[0].warnings[0][1]
