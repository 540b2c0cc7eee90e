"""The daemon on the embedded default (Maildir in, .eml files out), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import itertools
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from databases import end_the_lock_session, until_lock_waited_for
from messages import FIXTURE_TIME, REGISTRY, submission
from sqlalchemy import func, select
from tcpproxy import TcpProxy
from test_outbox import queue_replies, statuses
from test_store import NOW

from mailgate import daemon as daemon_module
from mailgate.app import build_daemon
from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.errors import StoreDataError
from mailgate.store import Store
from mailgate.store import lock as lock_module
from mailgate.store import store as store_module
from mailgate.store.lock import InstanceLock, instance_lock
from mailgate.store.models import Failure, Heartbeat, Message, Outbox
from mailgate.store.outbox import ClaimLostError, OutboxQueue

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
                raise RuntimeError("boom")
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
    world.deliver(submission(1, at=world.clock.now() - dt.timedelta(hours=73)))
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


async def test_replies_wait_while_the_transport_fails(
    store: Store, tmp_path: Path, clock: FrozenClock
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the outbox directory should be", encoding="utf-8")
    world = World(tmp_path, store, clock, transport={"directory": blocked})
    world.deliver(world.submission(1))
    await world.run_once()
    assert await world.count(Outbox, Outbox.status == "pending", Outbox.attempts == 1) == 1
    assert await world.count(Message) == 1


# -- faults of one message, and of the database ---------------------------------------------------


async def test_a_value_the_database_refuses_fails_that_message_only_and_the_inbox_goes_on(
    world: World,
) -> None:
    """The pipeline writes a str the driver cannot encode (a lone surrogate): on SQLite that crashed the
    daemon, on PostgreSQL it was taken for an outage and retried for ever, blocking the inbox."""
    poison = world.deliver(world.submission(1))
    fine = world.deliver(world.submission(2, title="越秀区老城区改造"))

    def bad_value(daemon: Daemon) -> None:
        real = daemon.pipeline._message

        def record(submission: Any, context: Any, verdict: Any, ref: Any, raw: bytes) -> Any:
            made = real(submission, context, verdict, ref, raw)
            return dataclasses.replace(made, subject=made.subject + "\udc80") if b"<1.test@" in raw else made

        daemon.pipeline._message = record  # type: ignore[method-assign]

    for attempt in (1, 2):
        await world.run_once(bad_value)
        assert world.folder(".Processed") == [fine]
        assert poison not in world.folder(".Quarantine")
        assert await world.count(Failure, Failure.attempts == attempt) == 1
    await world.run_once(bad_value)
    assert world.folder(".Quarantine") == [poison]
    assert len(world.replies()) == 1
    async with world.store.reading() as repo:
        failure = await repo.session.scalar(select(Failure))
    assert failure is not None
    assert failure.last_error.startswith("StoreDataError: the database refused the data: ")
    assert "\udc80" not in failure.last_error
    assert failure.message_id == "1.test@th.gz.gov.cn"  # the header fields are kept all the same


@pytest.mark.parametrize(
    ("raised", "kept"),
    [
        (
            UnicodeDecodeError("utf-8", "机密正文".encode("gbk"), 0, 2, "invalid start byte"),
            "UnicodeDecodeError",
        ),
        (KeyError("机密正文"), "KeyError"),
        (RuntimeError("line one\r\nline\x00two\x1b[31m " + "长" * 400), None),
    ],
    ids=["decode", "key", "long-with-control-characters"],
)
async def test_a_failure_is_kept_and_logged_without_the_messages_content(
    world: World, raised: Exception, kept: str | None
) -> None:
    world.deliver(world.submission(1))

    def failing(daemon: Daemon) -> None:
        async def process(raw: bytes, **kwargs: Any) -> Any:
            raise raised

        daemon.pipeline.process = process  # type: ignore[method-assign]

    with structlog.testing.capture_logs() as logs:
        await world.run_once(failing)
    async with world.store.reading() as repo:
        error = await repo.session.scalar(select(Failure.last_error))
    assert error is not None
    if kept is not None:
        assert error == kept  # these quote their input: the type alone
    else:
        assert error.startswith("RuntimeError: line one line two [31m 长")
        assert len(error) <= len("RuntimeError: ") + 200
        assert error.isprintable()
    [failed] = [entry for entry in logs if entry["event"] == "message_failed"]
    assert "exc_info" not in failed
    assert failed["log_level"] == "error"
    said = repr([entry for entry in logs if entry["log_level"] != "debug"])
    assert "机密" not in said
    assert "\\xbb" not in said
    assert "长长长" not in said


async def test_a_file_the_work_cannot_read_inside_a_transaction_fails_that_message_not_the_store(
    world: World,
) -> None:
    """An OSError of the work itself (a reply template it cannot read) inside a transaction is the
    message's failure, counted against it; taken for an outage, it would stall the inbox for ever."""
    poison = world.deliver(world.submission(1))
    fine = world.deliver(world.submission(2, title="越秀区老城区改造"))

    def unreadable(daemon: Daemon) -> None:
        real = daemon.pipeline.process

        async def process(raw: bytes, **kwargs: Any) -> Any:
            if b"<1.test@" not in raw:
                return await real(raw, **kwargs)
            async with daemon.store.transaction():
                return (world.root / "templates" / "receipt.txt").read_text(encoding="utf-8")

        daemon.pipeline.process = process  # type: ignore[method-assign]

    await world.run_once(unreadable)
    assert world.folder(".Processed") == [fine]
    assert poison in [p.name for p in (world.root / "daily" / "new").iterdir()]
    async with world.store.reading() as repo:
        failure = await repo.session.scalar(select(Failure))
    assert failure is not None
    assert failure.attempts == 1
    assert failure.last_error.startswith("FileNotFoundError")


def eight_bit(raw: bytes) -> bytes:
    """``raw`` with header fields in raw 8-bit bytes, as broken mailers send them: GBK and Latin-1 in
    Subject and From, invalid UTF-8 in the Message-ID, a NUL and stray bytes in a field of their own."""
    head, body = raw.split(b"\r\n\r\n", 1)
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            fields[-1] += b"\r\n" + line  # a folded field goes on
        else:
            fields.append(line)
    kept = [f for f in fields if not f.lower().startswith((b"subject:", b"from:", b"message-id:"))]
    kept += [
        "Subject: 【天河区】天河区推进智慧城市建设".encode("gbk") + b" \xff\xfe",
        b"From: \xc9ric Ch\xe2teau \xd5\xc5\xc8\xfd <xxy@th.gz.gov.cn>",
        b"Message-ID: <1.test\xff\xc3@th.gz.gov.cn>",
        b"X-Mailer: \x80\x81 junk \x00 here",
    ]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


async def test_a_message_with_raw_8bit_header_bytes_gets_a_verdict(world: World) -> None:
    name = world.deliver(eight_bit(world.submission(1)))
    await world.run_once()
    assert await world.count(Failure) == 0
    async with world.store.reading() as repo:
        [row] = (await repo.session.execute(select(Message.verdict, Message.message_id))).all()
    assert row.verdict in {"accepted", "rejected", "ignored"}
    assert name in world.folder(
        {"accepted": ".Processed", "rejected": ".Rejected"}.get(row.verdict, ".Ignored")
    )


class Watching:
    """A daemon running as a task; its filings, heartbeats and database failures wake :meth:`until`."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.filed = 0
        self.store_failures = 0
        self._changed = asyncio.Condition()
        self._notices: set[asyncio.Future[None]] = set()
        for source in daemon.sources:
            file = source.file

            async def filing(filed: Any, file: Any = file) -> None:
                await file(filed)
                self.filed += len(filed)
                await self._notify()

            source.file = filing  # type: ignore[method-assign]
        failed = daemon._store_failed

        def store_failed(*args: Any) -> None:
            failed(*args)
            self.store_failures += 1
            notice = asyncio.ensure_future(self._notify())
            self._notices.add(notice)
            notice.add_done_callback(self._notices.discard)

        daemon._store_failed = store_failed  # type: ignore[method-assign]
        beat = daemon.heartbeats.beat

        async def beating(component: str, **state: Any) -> None:
            await beat(component, **state)
            await self._notify()

        daemon.heartbeats.beat = beating  # type: ignore[method-assign]
        self.task = asyncio.create_task(daemon.run())
        self.task.add_done_callback(lambda _: asyncio.ensure_future(self._notify()))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.task.done() or condition())
        if not condition():
            self.task.result()
            raise AssertionError("the daemon stopped before the condition held")

    async def stop(self) -> None:
        self.daemon.stop()
        await asyncio.wait_for(self.task, 10)


@dataclasses.dataclass
class Outage:
    world: World
    cut: Callable[[], None]
    restore: Callable[[], None]


@pytest.fixture
async def outage(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Outage]:
    """A daemon's world whose database can fail: PostgreSQL behind a proxy that refuses connections,
    SQLite with its write lock held by another connection (for longer than the store waits)."""
    monkeypatch.setattr(daemon_module, "STORE_RETRY_MIN", 0.05)
    monkeypatch.setattr(daemon_module, "STORE_RETRY_MAX", 0.3)
    monkeypatch.setattr(store_module, "_BUSY_FOR", 0.3)
    clock = FrozenClock(FIXTURE_TIME + dt.timedelta(minutes=1))
    with TcpProxy("127.0.0.1", 5432) as proxy:
        sqlite = database_url.startswith("sqlite")
        store = Store(database_url if sqlite else proxy.url(database_url))
        await store.create_schema()
        other = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None) if sqlite else None
        try:
            if other is not None:
                yield Outage(
                    World(tmp_path, store, clock),
                    lambda: other.execute("BEGIN IMMEDIATE"),
                    lambda: other.execute("ROLLBACK"),
                )
            else:
                yield Outage(World(tmp_path, store, clock), proxy.refuse, proxy.forward)
        finally:
            if other is not None:
                other.close()
            proxy.forward()
            await store.close()


async def test_the_daemon_rides_out_a_database_outage_and_files_the_mail_after_it(outage: Outage) -> None:
    world = outage.world
    world.deliver(world.submission(1))
    with structlog.testing.capture_logs() as logs:
        running = Watching(await build_daemon(world.settings, world.store, clock=world.clock))
        try:
            await running.until(lambda: running.filed == 1)
            outage.cut()
            world.deliver(world.submission(2, title="越秀区老城区改造"))
            world.deliver(world.submission(3, title="天河区第三条信息"))
            await running.until(lambda: running.store_failures >= 5)  # backing off, again and again
            assert not running.task.done()
            assert running.filed == 1
            outage.restore()
            await running.until(lambda: running.filed == 3)
            await running.until(lambda: len(world.replies()) == 3)
        finally:
            await running.stop()
    events = [entry["event"] for entry in logs]
    assert events.count("store_unavailable") == 1  # once for the outage, not once per retry
    assert "store_recovered" in events
    assert events.index("store_unavailable") < events.index("store_recovered")
    unavailable = next(entry for entry in logs if entry["event"] == "store_unavailable")
    assert str(unavailable["error"]).startswith("database unavailable: ")
    assert await world.count(Message) == 3
    assert await world.count(Outbox, Outbox.status == "sent") == 3
    assert await world.count(Failure) == 0  # an outage is nobody's failure


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_daemon_pauses_while_its_instance_lock_is_lost(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: SQLite's file lock cannot be lost while the process lives."""
    monkeypatch.setattr(lock_module, "CHECK_EVERY", 0.05)
    monkeypatch.setattr(lock_module, "RETRY_MIN", 0.05)
    monkeypatch.setattr(lock_module, "RETRY_MAX", 0.1)
    world = World(tmp_path, store, FrozenClock(FIXTURE_TIME + dt.timedelta(minutes=1)))
    lock = instance_lock(store)
    await lock.acquire()
    other = await asyncpg.connect(store.url.replace("+asyncpg", ""))
    world.deliver(world.submission(1))
    with structlog.testing.capture_logs() as logs:
        running = Watching(await build_daemon(world.settings, store, clock=world.clock, lock=lock))
        try:
            await running.until(lambda: running.filed == 1)
            waiting = asyncio.create_task(
                other.execute("SELECT pg_advisory_lock($1)", lock_module.ADVISORY_KEY)
            )
            await until_lock_waited_for(lock_module.ADVISORY_KEY)
            assert await end_the_lock_session(lock_module.ADVISORY_KEY) == 1
            async with asyncio.timeout(10):
                await lock.wait_lost()
                await waiting  # another instance holds the lock now
            late = world.deliver(world.submission(2, title="越秀区老城区改造"))
            await asyncio.sleep(3)  # longer than a Maildir poll: nothing to await but the absence of work
            assert running.filed == 1
            assert late in [p.name for p in (world.root / "daily" / "new").iterdir()]
            await other.execute("SELECT pg_advisory_unlock($1)", lock_module.ADVISORY_KEY)
            await running.until(lambda: running.filed == 2)
            await running.until(lambda: len(world.replies()) == 2)
        finally:
            await other.close()
            await running.stop()
            await lock.release()
    events = [entry["event"] for entry in logs]
    assert events.count("instance_lock_lost") == 1
    assert events.count("instance_lock_regained") == 1
    assert len(world.replies()) == 2


class HandedLock(InstanceLock):
    """An instance lock the test loses and gives back, as another instance takes it meanwhile."""

    async def _take(self) -> None:
        return None

    async def _drop(self) -> None:
        return None


async def test_replies_another_instance_left_in_hand_are_recovered_when_the_lock_is_taken_back(
    store: Store, tmp_path: Path
) -> None:
    world = World(tmp_path, store, FrozenClock(NOW + dt.timedelta(minutes=1)))
    lock = HandedLock()
    await lock.acquire()
    world.deliver(world.submission(1))
    running = Watching(await build_daemon(world.settings, store, clock=world.clock, lock=lock))
    try:
        await running.until(lambda: len(world.replies()) == 1)
        lock._set_held(False)  # another instance has the lock now, and sends, then loses it too
        [began, claimed] = await queue_replies(store, 2)
        other = OutboxQueue(store, worker="other-instance")
        assert [r.id for r in await other.claim(NOW)] == [began, claimed]
        await other.sending(began)
        lock._set_held(True)
        await running.until(lambda: len(world.replies()) == 2)
    finally:
        await running.stop()
    found = await statuses(store)
    assert found[began] == ("unknown", None)  # its data may have gone out: never sent again
    assert found[claimed] == ("sent", None)
    with pytest.raises(ClaimLostError):
        await other.sending(claimed)


async def test_a_stop_while_the_database_hangs_ends_the_work_within_seconds(
    database_url: str, tmp_path: Path
) -> None:
    """SIGTERM's path while every database call hangs (a black-holed network; SQLite's lock held by
    another process): the message in hand gets ``STOP_GRACE`` seconds, then the work is cancelled."""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        sqlite = database_url.startswith("sqlite")
        store = Store(database_url if sqlite else proxy.url(database_url))
        await store.create_schema()
        world = World(tmp_path, store, FrozenClock(FIXTURE_TIME + dt.timedelta(minutes=1)))
        other = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None) if sqlite else None
        world.deliver(world.submission(1))
        try:
            running = Watching(await build_daemon(world.settings, store, clock=world.clock))
            await running.until(lambda: running.filed == 1)
            if other is not None:
                other.execute("BEGIN IMMEDIATE")  # and the store would wait 30 s for it
            else:
                proxy.blackhole()
            world.deliver(world.submission(2, title="越秀区老城区改造"))
            await asyncio.sleep(2.5)  # a Maildir poll: the watcher is now stuck in the database
            started = time.monotonic()
            await running.stop()
            assert time.monotonic() - started < daemon_module.STOP_GRACE + 2
        finally:
            if other is not None:
                other.close()
            proxy.forward()
            await store.close()


async def test_the_inbox_heartbeat_counts_unreadable_maildir_files(world: World) -> None:
    world.deliver(world.submission(1))
    (world.root / "daily" / "new" / "1700000000.dangling.test").symlink_to(world.root / "nowhere")
    await world.run_once()
    async with world.store.reading() as repo:
        daily = await repo.session.get(Heartbeat, "inbox:daily")
        commissioned = await repo.session.get(Heartbeat, "inbox:commissioned")
    assert daily is not None
    assert commissioned is not None
    assert (daily.state["handled"], daily.state["unreadable"]) == (1, 1)
    assert commissioned.state["unreadable"] == 0


async def test_a_message_another_writer_filed_meanwhile_is_filed_not_failed(world: World) -> None:
    """Two writers on one message (PostgreSQL lets both in): the second one's insert is refused for the
    key already on file; that is no failure of the message, which is filed by the verdict on file."""
    name = world.deliver(world.submission(1))

    def raced(daemon: Daemon) -> None:
        real = daemon.pipeline.process

        async def process(raw: bytes, **kwargs: Any) -> Any:
            await real(raw, **kwargs)  # the other writer, first
            raise StoreDataError("the database refused the data: UniqueViolationError (23505)")

        daemon.pipeline.process = process  # type: ignore[method-assign]

    await world.run_once(raced)
    assert world.folder(".Processed") == [name]
    assert await world.count(Failure) == 0
    assert await world.count(Message) == 1
