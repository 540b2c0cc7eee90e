"""Who is answered, when: backscatter to strangers, the officers' hourly limit, undeliverable replies."""

from __future__ import annotations

import datetime as dt
import email
import itertools
import tomllib
from email import policy
from typing import Any

import pytest
from messages import FIXTURE_TIME, GUANGZHOU, REGISTRY, submission
from sqlalchemy import select

from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.pipeline import MessageRef, Pipeline, Processed
from mailgate.registry import registry_from_mapping
from mailgate.replies import Replies
from mailgate.store import Store
from mailgate.store.models import Outbox
from mailgate.throttle import recipient_key
from rules import Inbox, default_rules

_keys = itertools.count(1)

LINK_LINE = "点击领取补贴 http://phish.example.com/" + "x" * 2400


class Desk:
    """A pipeline on a frozen clock over ``store``, with the test registry."""

    def __init__(self, store: Store, **replies: Any) -> None:
        self.store = store
        self.clock = FrozenClock(FIXTURE_TIME)
        self.settings = Settings(replies=replies)
        registry = registry_from_mapping(tomllib.loads(REGISTRY))
        self.pipeline = Pipeline(
            store,
            registry,
            self.settings,
            default_rules(),
            replies=Replies.from_settings(self.settings),
            clock=self.clock,
        )

    async def send(self, n: int, **fields: Any) -> Processed:
        """A message arriving now, by the desk's clock."""
        raw = submission(n, at=self.clock.now(), **fields)
        result = await self.pipeline.process(
            raw, inbox=Inbox.DAILY, ref=MessageRef("daily", f"k{next(_keys)}"), received_at=self.clock.now()
        )
        assert isinstance(result, Processed)
        return result

    async def outbox(self) -> list[Outbox]:
        async with self.store.transaction() as repo:
            return list(await repo.session.scalars(select(Outbox).order_by(Outbox.id)))


def stranger(n: int, address: str = "victim@example.com", **fields: Any) -> dict[str, Any]:
    """A forged message: an address the registry does not know, a lure in the name and body."""
    return {
        "sender": address,
        "name": "领奖中心 http://phish.example.com",
        "title": f"中奖通知第{n}号 http://phish.example.com",
        "body": LINK_LINE + "\n",
        **fields,
    }


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("victim@example.com", "victim@example.com"),
        ('"victim"@example.com', "victim@example.com"),
        ("Victim@EXAMPLE.com", "victim@example.com"),
        ('"Vic Tim" <"victim"@Example.COM.>', "victim@example.com"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_one_mailbox_is_one_key(address: str, key: str) -> None:
    assert recipient_key(address) == key


async def test_a_forged_sender_gets_one_short_notice_a_day_that_quotes_nothing(store: Store) -> None:
    desk = Desk(store)
    for n in range(1, 31):
        await desk.send(n, **stranger(n))
    rows = await desk.outbox()
    assert len(rows) == 30
    sent = [r for r in rows if r.status == "pending"]
    assert len(sent) == 1
    assert {r.reason for r in rows if r.status == "suppressed"} == {"stranger_daily"}
    notice = email.message_from_bytes(sent[0].raw, policy=policy.default)
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for echoed in ("phish", "http", "中奖", "领奖中心", "x" * 60):
        assert echoed not in text
        assert echoed not in str(notice["Subject"])
    assert len(text) < 1500
    # The next calendar day in Guangzhou (not in UTC) allows the next notice.
    local = desk.clock.now().astimezone(GUANGZHOU)
    desk.clock.set(dt.datetime.combine(local.date(), dt.time(23, 59), GUANGZHOU))
    await desk.send(31, **stranger(31))
    desk.clock.advance(dt.timedelta(minutes=2))
    await desk.send(32, **stranger(32))
    statuses = [(r.status, r.reason) for r in (await desk.outbox())[30:]]
    assert statuses == [("suppressed", "stranger_daily"), ("pending", None)]


async def test_strangers_can_be_left_unanswered(store: Store) -> None:
    desk = Desk(store, strangers="none")
    await desk.send(1, **stranger(1))
    [row] = await desk.outbox()
    assert (row.status, row.reason) == ("suppressed", "strangers_off")


async def test_notices_to_strangers_wait_past_the_hourly_ceiling_and_receipts_do_not(store: Store) -> None:
    desk = Desk(store, strangers_per_hour=3)
    for n in range(1, 8):
        await desk.send(n, **stranger(n, address=f"someone{n}@example.com"))
    receipt = await desk.send(100)
    assert receipt.item is not None
    rows = await desk.outbox()
    now = desk.clock.now()
    notices = [r.next_attempt_at - now for r in rows if r.kind == "stranger"]
    hour = dt.timedelta(hours=1)
    assert notices == [dt.timedelta(0)] * 3 + [hour] * 3 + [2 * hour]
    assert all(r.status == "pending" for r in rows)  # waiting, not dropped
    [sent_receipt] = [r for r in rows if r.kind == "receipt"]
    assert sent_receipt.next_attempt_at == now


async def test_the_hourly_limit_counts_one_mailbox_once_however_it_is_spelt(store: Store) -> None:
    desk = Desk(store, per_address_per_hour=2)
    spellings = ["xxy@th.gz.gov.cn", "XXY@th.gz.gov.cn", "xxy@TH.GZ.GOV.CN"]
    for n, address in enumerate(spellings, 1):
        await desk.send(n, sender=address, title=f"第{n}条信息")
    rows = await desk.outbox()
    assert [r.status for r in rows] == ["pending", "pending", "suppressed"]
    assert rows[2].reason == "rate_limit"


async def test_forged_mail_in_an_officers_name_does_not_hold_back_their_receipts(store: Store) -> None:
    desk = Desk(store, per_address_per_hour=3)
    for n in range(1, 11):  # rejected: the wrong unit in the subject
        await desk.send(n, title=f"伪造信息第{n}号", identifier="越秀区")
    real = await desk.send(50, title="天河区真实信息")
    assert real.item is not None
    rows = await desk.outbox()
    notices = [r for r in rows if r.kind == "rejection"]
    assert sum(r.status == "pending" for r in notices) == 3
    [receipt] = [r for r in rows if r.kind == "receipt"]
    assert receipt.status == "pending"


async def test_old_mail_is_held_back_and_says_why(store: Store) -> None:
    desk = Desk(store)
    raw = submission(1, at=desk.clock.now() - dt.timedelta(hours=80))
    await desk.pipeline.process(raw, inbox=Inbox.DAILY, ref=MessageRef("daily", "old"))
    [row] = await desk.outbox()
    assert (row.status, row.reason) == ("suppressed", "too_old")


@pytest.mark.parametrize(
    "sender",
    ["张三@th.gz.gov.cn", "xxy.@th.gz.gov.cn", "xxy@th..gz.gov.cn"],
)
async def test_a_reply_that_cannot_be_built_is_kept_as_undeliverable(store: Store, sender: str) -> None:
    desk = Desk(store)
    raw = submission(1, at=desk.clock.now()).replace(b"<xxy@th.gz.gov.cn>", f"<{sender}>".encode())
    result = await desk.pipeline.process(raw, inbox=Inbox.DAILY, ref=MessageRef("daily", "odd"))
    assert isinstance(result, Processed)
    assert result.verdict.outcome.value in {"accepted", "rejected"}
    [row] = await desk.outbox()
    assert (row.status, row.reason) == ("suppressed", "undeliverable")
    assert row.last_error


async def test_the_ceiling_holds_in_every_hour_however_the_notices_arrive(store: Store) -> None:
    desk = Desk(store, strangers_per_hour=3)
    start = desk.clock.now()
    hour = dt.timedelta(hours=1)
    n = itertools.count(1)
    for offset in (dt.timedelta(0), hour - dt.timedelta(seconds=1), hour + dt.timedelta(seconds=1)):
        desk.clock.set(start + offset)
        for _ in range(3):
            k = next(n)
            await desk.send(k, **stranger(k, address=f"someone{k}@example.com"))
    due = sorted(r.next_attempt_at for r in await desk.outbox())
    assert due == [start] * 3 + [start + hour] * 3 + [start + 2 * hour] * 3
    for first in due:  # no hour holds more than the ceiling
        assert sum(first <= d < first + hour for d in due) <= 3


async def test_receipts_to_strangers_keep_the_strangers_limits(store: Store) -> None:
    desk = Desk(store)
    desk.settings = Settings(rules={"severities": {"unregistered-sender": "off"}})
    desk.pipeline = Pipeline(
        store,
        desk.pipeline.registry,
        desk.settings,
        default_rules(),
        replies=Replies.from_settings(desk.settings),
        clock=desk.clock,
    )
    for n in range(1, 4):
        result = await desk.send(n, sender="someone@example.com", title=f"第{n}条信息")
        assert result.item is not None  # accepted: the operator turned the rule off
    rows = await desk.outbox()
    assert [(r.kind, r.status, r.reason) for r in rows] == [
        ("receipt", "pending", None),
        ("receipt", "suppressed", "stranger_daily"),
        ("receipt", "suppressed", "stranger_daily"),
    ]


async def test_a_deactivated_officer_is_told_every_finding_not_the_strangers_notice(store: Store) -> None:
    registry = tomllib.loads(REGISTRY)
    registry["officers"][0]["active"] = False
    desk = Desk(store)
    desk.pipeline.registry = registry_from_mapping(registry)
    result = await desk.send(1)
    assert [f.rule for f in result.verdict.findings] == ["unregistered-sender"]
    [row] = await desk.outbox()
    assert (row.kind, row.audience, row.status) == ("rejection", "officer", "pending")
