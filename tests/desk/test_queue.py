"""The editors' queue: order, filters, keyset pages, item detail and audited status changes."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import BODY, TITLE, submission

from desk.data import ARRIVAL, YUEXIU, YUEXIU_BODY, Desk, with_word
from mailgate.desk.paging import decode_cursor, encode_cursor
from mailgate.desk.queue import QueueFilter, item_detail, list_queue, set_status
from mailgate.store.models import UnitRow
from mailgate.store.registry import add_commission

SHAPE = (bool, dt.datetime, int)


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
    await set_status(desk.store, filed["daily"], "used", "", "editor")
    assert await _titles(desk, QueueFilter(status="used")) == ["天河区推进智慧城市建设取得新进展"]
    assert len(await _titles(desk, QueueFilter(status="new"))) == 4


async def test_dates_are_whole_days_in_guangzhou(desk: Desk) -> None:
    late_evening, after_midnight = await desk.bulk_items(2)
    await desk.set_times(late_evening, dt.datetime(2026, 11, 25, 15, 59, tzinfo=dt.UTC))  # 23:59, 25th
    await desk.set_times(
        after_midnight, dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC)
    )  # 00:30 on the 26th
    day = dt.date(2026, 11, 26)
    assert await _titles(desk, QueueFilter(since=day, until=day)) == ["批量信息第1号"]
    assert await _titles(desk, QueueFilter(until=day - dt.timedelta(days=1))) == ["批量信息第0号"]
    assert await _titles(desk, QueueFilter(since=day)) == ["批量信息第1号"]
    assert await _titles(desk, QueueFilter(since=day + dt.timedelta(days=1))) == []
    assert len(await _titles(desk, QueueFilter(since=day - dt.timedelta(days=1), until=day))) == 2


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
    await set_status(desk.store, item_id, "review", "请核实数据", "wang")
    await set_status(desk.store, item_id, "used", "采用于第12期", "li")
    detail = await item_detail(desk.store, item_id)
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
    assert [(e.previous, e.status, e.note, e.username) for e in detail.events] == [
        ("new", "review", "请核实数据", "wang"),
        ("review", "used", "采用于第12期", "li"),
    ]
    assert detail.events[0].at <= detail.events[1].at
    assert detail.events[0].at.tzinfo is not None
    assert await item_detail(desk.store, item_id + 100) is None


async def test_set_status_refuses_unknown_statuses_and_items(desk: Desk) -> None:
    (item_id,) = await desk.bulk_items(1)
    with pytest.raises(ValueError, match="status"):
        await set_status(desk.store, item_id, "published", "", "wang")
    with pytest.raises(ValueError, match="item"):
        await set_status(desk.store, item_id + 1, "used", "", "wang")
    detail = await item_detail(desk.store, item_id)
    assert detail is not None
    assert detail.row.status == "new"
    assert detail.events == []
