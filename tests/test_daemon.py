"""The daemon on the embedded default (Maildir in, .eml files out), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email
import functools
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from messages import FIXTURE_TIME, REGISTRY, submission
from sqlalchemy import func, select

from mailgate.app import build_daemon
from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.store import Store
from mailgate.store.models import Failure, Message, Outbox

_names = itertools.count(1)


#: The daemon's tests run with the clock at the fixtures' own moment, a year ahead and a year behind:
#: every message is dated relative to the clock, so no test depends on the calendar.
EPOCHS = {
    "fixture-day": FIXTURE_TIME,
    "a-year-ahead": FIXTURE_TIME + dt.timedelta(days=365),
    "a-year-behind": FIXTURE_TIME - dt.timedelta(days=365),
}


@pytest.fixture(params=list(EPOCHS))
def clock(request: pytest.FixtureRequest) -> FrozenClock:
    return FrozenClock(EPOCHS[request.param] + dt.timedelta(minutes=1))


class World:
    """A daemon's surroundings in a temporary directory, on a frozen clock."""

    def __init__(self, root: Path, store: Store, clock: FrozenClock, **overrides: Any) -> None:
        self.root = root
        self.store = store
        self.clock = clock
        (root / "registry.toml").write_text(REGISTRY, encoding="utf-8")
        fields: dict[str, Any] = {
            "registry_file": root / "registry.toml",
            "store": {"url": store.url},
            "source": {"daily": root / "daily", "commissioned": root / "commissioned"},
            "transport": {"directory": root / "outbox"},
        }
        for key, value in overrides.items():
            fields[key] = {**fields.get(key, {}), **value} if isinstance(value, dict) else value
        self.settings = Settings(**fields)

    def deliver(self, raw: bytes, inbox: str = "daily", name: str | None = None) -> str:
        new = self.root / inbox / "new"
        new.mkdir(parents=True, exist_ok=True)
        name = name or f"1700000000.M{next(_names)}P1.test"
        (new / name).write_bytes(raw)
        return name

    def submission(self, n: int = 1, **fields: Any) -> bytes:
        """A message that arrived a minute ago, by the world's clock."""
        return submission(n, at=self.clock.now() - dt.timedelta(minutes=1), **fields)

    async def run_once(self, patch: Callable[[Daemon], None] | None = None) -> Daemon:
        daemon = await build_daemon(self.settings, self.store, clock=self.clock)
        if patch:
            patch(daemon)
        await daemon.run(once=True)
        return daemon

    def folder(self, folder: str, inbox: str = "daily") -> list[str]:
        path = self.root / inbox / folder / "cur"
        return sorted(p.name.split(":")[0] for p in path.iterdir()) if path.exists() else []

    def replies(self) -> list[email.message.Message]:
        out = self.root / "outbox"
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(out.glob("*.eml"))]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.store.transaction() as repo:
            return int(await repo.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def world(store: Store, tmp_path: Path, clock: FrozenClock) -> World:
    return World(tmp_path, store, clock)


async def test_every_message_gets_one_verdict_and_at_most_one_reply(world: World) -> None:
    good = world.deliver(world.submission(1))
    bad = world.deliver(world.submission(2, title="另一条信息", identifier="越秀区"))
    auto = world.deliver(world.submission(3, headers={"Auto-Submitted": "auto-replied"}))
    await world.run_once()
    assert world.folder(".Processed") == [good]
    assert world.folder(".Rejected") == [bad]
    assert world.folder(".Ignored") == [auto]
    assert list((world.root / "daily" / "new").iterdir()) == []
    replies = world.replies()
    assert len(replies) == 2
    receipt, notice = sorted(replies, key=lambda m: str(m["X-Mailgate-Verdict"]))
    assert receipt["In-Reply-To"] == "<1.test@th.gz.gov.cn>"
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["X-Loop"] == "mailgate"
    assert notice["In-Reply-To"] == "<2.test@th.gz.gov.cn>"
    assert "identifier" not in notice.get_payload(decode=True).decode()  # messages, not rule ids
    assert "越秀区" in notice.get_payload(decode=True).decode()
    await world.run_once()  # nothing left: nothing new
    assert len(world.replies()) == 2
    assert await world.count(Message) == 3


async def test_a_message_found_again_after_a_crash_is_filed_not_reprocessed(world: World) -> None:
    name = world.deliver(world.submission(1))
    await world.run_once()
    # The verdict was committed but the daemon died before filing: the file is still there.
    world.deliver((world.root / "daily" / ".Processed" / "cur" / f"{name}:2,S").read_bytes(), name=name)
    await world.run_once()
    assert await world.count(Message) == 1
    assert len(world.replies()) == 1
    assert world.folder(".Processed") == [name]


async def test_a_poison_message_is_retried_then_quarantined_without_a_reply(world: World) -> None:
    poison = world.deliver(world.submission(1))
    fine = world.deliver(world.submission(2, title="越秀区老城区改造"))

    def break_one(daemon: Daemon) -> None:
        real = daemon.pipeline.process

        async def process(raw: bytes, **kwargs: Any) -> Any:
            if b"<1.test@" in raw:
                raise ValueError("boom")
            return await real(raw, **kwargs)

        daemon.pipeline.process = process  # type: ignore[method-assign]

    for attempt in (1, 2):
        await world.run_once(break_one)
        assert poison not in world.folder(".Quarantine")
        assert await world.count(Failure, Failure.attempts == attempt) == 1
    await world.run_once(break_one)
    assert world.folder(".Quarantine") == [poison]
    assert world.folder(".Processed") == [fine]
    assert len(world.replies()) == 1
    async with world.store.transaction() as repo:
        failure = await repo.session.scalar(select(Failure))
        assert failure is not None
        assert failure.quarantined_at is not None
        assert failure.raw is not None
        assert "boom" in failure.last_error
        assert failure.from_address == "xxy@th.gz.gov.cn"
        assert failure.message_id == "1.test@th.gz.gov.cn"
        assert failure.subject is not None
        assert "天河区" in failure.subject


async def test_replies_are_rate_limited_per_address(world: World) -> None:
    for n in range(1, 26):
        world.deliver(world.submission(n, title=f"第{n}条信息"))
    await world.run_once()
    assert len(world.replies()) == 20
    assert await world.count(Outbox, Outbox.status == "suppressed", Outbox.reason == "rate_limit") == 5


async def test_old_mail_is_processed_but_not_answered(world: World) -> None:
    world.deliver(
        submission(1, at=world.clock.now() - dt.timedelta(hours=73))
    )
    await world.run_once()
    assert world.replies() == []
    assert await world.count(Outbox, Outbox.reason == "too_old") == 1
    assert await world.count(Message, Message.verdict == "accepted") == 1


async def test_urgent_items_alert_the_editors(store: Store, tmp_path: Path, clock: FrozenClock) -> None:
    world = World(tmp_path, store, clock, replies={"editors_address": "editors@gzy.gov.cn"})
    world.deliver(world.submission(1, markers="【紧急】"))
    await world.run_once()
    kinds = sorted(str(m["To"]) for m in world.replies())
    assert any("editors@gzy.gov.cn" in to for to in kinds)
    assert len(kinds) == 2


async def test_a_revision_replying_to_its_receipt_is_linked(world: World) -> None:
    world.deliver(world.submission(1))
    await world.run_once()
    receipt = world.replies()[0]
    tracking = str(receipt["X-Mailgate-Tracking"])
    revised = world.submission(
        2,
        markers="【修改稿】",
        title="天河区智慧城市建设又有新进展",  # a new title: only In-Reply-To can link it
        in_reply_to=str(receipt["Message-ID"]).strip("<>"),
    )
    world.deliver(revised)
    await world.run_once()
    second = [m for m in world.replies() if m["In-Reply-To"] == "<2.test@th.gz.gov.cn>"]
    assert len(second) == 1
    assert second[0]["X-Mailgate-Tracking"] == tracking
    body = second[0].get_payload(decode=True).decode()
    assert "第 2 稿" in body


async def test_replies_wait_while_the_transport_fails(store: Store, tmp_path: Path, clock: FrozenClock) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the outbox directory should be", encoding="utf-8")
    world = World(tmp_path, store, clock, transport={"directory": blocked})
    world.deliver(world.submission(1))
    await world.run_once()
    assert await world.count(Outbox, Outbox.status == "pending", Outbox.attempts == 1) == 1
    assert await world.count(Message) == 1
