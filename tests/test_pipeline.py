"""The pipeline files whatever a message carries: long values fit, raw 8-bit headers get a verdict."""

from __future__ import annotations

import datetime as dt
import email.utils
import tomllib

import pytest
from messages import FIXTURE_TIME, REGISTRY, submission
from sqlalchemy import select

from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.pipeline import MessageRef, Pipeline, Processed
from mailgate.registry import registry_from_mapping
from mailgate.replies import Replies
from mailgate.store import Store
from mailgate.store.models import Item, Message, Outbox, Revision
from rules import Inbox, default_rules


def pipeline(store: Store) -> Pipeline:
    settings = Settings()
    return Pipeline(
        store,
        registry_from_mapping(tomllib.loads(REGISTRY)),
        settings,
        default_rules(),
        replies=Replies.from_settings(settings),
        clock=FrozenClock(FIXTURE_TIME),
    )


async def test_an_item_with_a_very_long_title_is_filed(store: Store) -> None:
    title = "天河区" + "推进智慧城市建设" * 80  # 643 characters: longer than the title key's column
    result = await pipeline(store).process(
        submission(1, title=title), inbox=Inbox.DAILY, ref=MessageRef("daily", "long")
    )
    assert isinstance(result, Processed)
    assert result.item is not None
    async with store.reading() as repo:
        item = await repo.session.scalar(select(Item))
        assert item is not None
        assert item.title == title
        assert len(item.title_key) == Item.title_key.type.length


async def test_raw_utf8_and_gbk_in_ids_and_addresses_get_a_verdict(store: Store) -> None:
    raw = submission(1)
    raw = raw.replace(b"<1.test@th.gz.gov.cn>", "<编号1.测试@th.gz.gov.cn>".encode())
    raw = raw.replace(b"To: inf@gzy.gov.cn", b"To: inf@gzy.gov.cn\r\nReferences: <\xb1\xe0\xba\xc5@x>")
    result = await pipeline(store).process(raw, inbox=Inbox.DAILY, ref=MessageRef("daily", "8bit"))
    assert isinstance(result, Processed)
    async with store.reading() as repo:
        message = await repo.session.scalar(select(Message))
        assert message is not None
        assert message.message_id == "编号1.测试@th.gz.gov.cn"
        assert await repo.session.scalar(select(Revision.author)) == "张三"
        replies = list(await repo.session.scalars(select(Outbox)))
    assert [r.kind for r in replies] == ["receipt"]
    assert replies[0].status == "pending"


@pytest.mark.parametrize(
    "stamp",
    [
        "Fri, 31 Dec 9999 23:59:59 -1200",  # beyond what a datetime holds in UTC
        "in the future",  # a day ahead of our clock: no server stamped it
        "not a date",
    ],
)
async def test_a_received_stamp_that_cannot_be_ours_is_not_the_arrival(store: Store, stamp: str) -> None:
    clock = FrozenClock(FIXTURE_TIME)
    if stamp == "in the future":
        stamp = email.utils.format_datetime(FIXTURE_TIME + dt.timedelta(days=1))
    filer = pipeline(store)
    filer.clock = clock
    raw = submission(1, received=stamp, date=email.utils.format_datetime(FIXTURE_TIME))
    delivered = FIXTURE_TIME - dt.timedelta(minutes=3)
    result = await filer.process(
        raw, inbox=Inbox.DAILY, ref=MessageRef("daily", "stamp"), delivered_at=delivered
    )
    assert isinstance(result, Processed)
    assert result.verdict.outcome.value == "accepted"
    assert result.context.received_at == delivered
