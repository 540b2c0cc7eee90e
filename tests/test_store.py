"""The store on SQLite and PostgreSQL: messages, dedupe keys, items and their revisions."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from mailgate.clock import FrozenClock
from mailgate.errors import StoreDataError, StoreError
from mailgate.store import NewMessage, NewRevision, Store
from mailgate.store.state import Heartbeats

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


def message(**overrides: object) -> NewMessage:
    fields: dict[str, object] = {
        "mailbox": "daily",
        "uidvalidity": 7,
        "uid": 1,
        "source_key": "7:1",
        "message_id": "a@th.gz.gov.cn",
        "content_hash": "0" * 64,
        "size": 1234,
        "from_address": "xxy@th.gz.gov.cn",
        "subject": "【天河区】标题",
        "unit_id": "天河区",
        "received_at": dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "verdict": "accepted",
        "findings": [{"rule": "clock-skew", "severity": "warn", "reason": "skew", "params": {"minutes": 20}}],
        "raw": b"raw",
    }
    fields.update(overrides)
    return NewMessage(**fields)  # type: ignore[arg-type]


def revision(**overrides: object) -> NewRevision:
    fields: dict[str, object] = {
        "unit_id": "天河区",
        "title": "天河区推进智慧城市建设",
        "title_key": "天河区推进智慧城市建设",
        "inbox": "daily",
        "urgent": False,
        "commission_code": None,
        "body": "正文",
        "source": None,
        "attachment_name": None,
        "attachment_text": None,
        "body_zi": 2,
        "attachment_zi": None,
        "counting": "word",
        "officer": "张三",
        "author": "张三",
        "author_unit": "天河区政府办",
        "phone": "38622000",
        "signed_on": dt.date(2026, 11, 26),
    }
    fields.update(overrides)
    return NewRevision(**fields)  # type: ignore[arg-type]


async def test_seen_by_message_id_then_by_content_hash(store: Store) -> None:
    async with store.transaction() as repo:
        assert await repo.seen("a@th.gz.gov.cn", "0" * 64) is None
        await repo.add_message(message(), NOW)
    async with store.transaction() as repo:
        assert await repo.seen("a@th.gz.gov.cn", "f" * 64) == "message-id"
        assert await repo.seen("other@x", "0" * 64) == "content-hash"
        assert await repo.seen(None, "f" * 64) is None


async def test_revisions_fold_into_one_item(store: Store) -> None:
    async with store.transaction() as repo:
        first_pk = await repo.add_message(message(), NOW)
        item = await repo.add_revision(revision(), message_pk=first_pk, revises=None, now=NOW, zone=dt.UTC)
    assert item.revision == 1
    assert item.tracking == f"20261126-{item.id:06d}"
    async with store.transaction() as repo:
        found = await repo.item_by_title("天河区", "天河区推进智慧城市建设")
        assert found == item
        assert await repo.item_by_title("越秀区", "天河区推进智慧城市建设") is None
        second_pk = await repo.add_message(
            message(uid=2, source_key="7:2", message_id="b@x", content_hash="1" * 64), NOW
        )
        again = await repo.add_revision(
            revision(body="改过的正文", urgent=True),
            message_pk=second_pk,
            revises=found,
            now=NOW,
            zone=dt.UTC,
        )
    assert (again.id, again.tracking, again.revision) == (item.id, item.tracking, 2)
    async with store.transaction() as repo:
        assert await repo.item_by_tracking(item.tracking) == again


async def test_times_come_back_aware_in_utc(store: Store) -> None:
    async with store.transaction() as repo:
        pk = await repo.add_message(message(), NOW)
    async with store.transaction() as repo:
        from mailgate.store.models import Message

        row = await repo.session.get(Message, pk)
        assert row is not None
        assert row.received_at == dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
        assert row.received_at.tzinfo is not None
        assert row.findings[0]["params"] == {"minutes": 20}


async def test_one_row_per_mailbox_uid_and_failed_transactions_leave_nothing(store: Store) -> None:
    async with store.transaction() as repo:
        await repo.add_message(message(), NOW)

    async def clash() -> None:
        async with store.transaction() as repo:
            await repo.add_message(
                message(message_id="other", content_hash="2" * 64, uid=5, source_key="7:5"), NOW
            )
            await repo.add_message(message(message_id="dup"), NOW)

    with pytest.raises(StoreDataError) as raised:
        await clash()
    assert not isinstance(raised.value, StoreError)  # the data's fault, not an outage
    async with store.transaction() as repo:
        assert await repo.seen("other", "2" * 64) is None


async def test_reading_never_waits_for_the_writer_and_sees_committed_rows(store: Store) -> None:
    async with store.transaction() as writer:
        await writer.add_message(message(), NOW)
        async with store.reading() as reader:  # the writer still holds its transaction
            assert await reader.seen("a@th.gz.gov.cn", "0" * 64) is None
    async with store.reading() as reader:
        assert await reader.seen("a@th.gz.gov.cn", "0" * 64) == "message-id"


async def test_heartbeats_from_several_writers_never_collide(store: Store) -> None:
    clock = FrozenClock(dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC))
    beats = [Heartbeats(store, clock) for _ in range(4)]
    await asyncio.gather(*(b.beat("outbox", n=n) for n, b in enumerate(beats * 5)))
    found = await beats[0].all()
    assert list(found) == ["outbox"]
    assert found["outbox"][0] == clock.now()


@pytest.mark.parametrize(
    ("filed", "tracking_day"),
    [
        (dt.datetime(2026, 12, 1, 18, 48, tzinfo=dt.UTC), "20261202"),  # 02:48 on 2 December in Beijing
        (dt.datetime(2026, 12, 1, 15, 59, tzinfo=dt.UTC), "20261201"),  # 23:59 on 1 December in Beijing
    ],
)
async def test_tracking_numbers_carry_the_filing_day_in_the_units_zone(
    store: Store, filed: dt.datetime, tracking_day: str
) -> None:
    async with store.transaction() as repo:
        pk = await repo.add_message(message(), filed)
        item = await repo.add_revision(
            revision(), message_pk=pk, revises=None, now=filed, zone=ZoneInfo("Asia/Shanghai")
        )
    assert item.tracking == f"{tracking_day}-{item.id:06d}"
