"""The Maildir source: an entry that cannot be read is skipped and counted, never blocks its inbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from messages import FIXTURE_TIME, REGISTRY, submission
from structlog.testing import capture_logs

from mailgate.app import build_daemon
from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.sources import Disposition, Fetched, maildir
from mailgate.sources.maildir import MaildirSource
from mailgate.store import Store
from rules import Inbox

SECRET = b"SECRET-BODY-TEXT"


def message(n: int) -> bytes:
    return f"Subject: {n}\r\nMessage-ID: <{n}@x>\r\n\r\n".encode() + SECRET + b"\r\n"


@pytest.fixture
async def source(tmp_path: Path) -> MaildirSource:
    source = MaildirSource(Inbox.DAILY, tmp_path / "daily", fetch_cap=1024 * 1024)
    await source.connect()
    return source


def embedded(store: Store, root: Path) -> Settings:
    """The embedded default under ``root``, on ``store``, with the test registry."""
    (root / "registry.toml").write_text(REGISTRY, encoding="utf-8")
    return Settings(
        registry_file=root / "registry.toml",
        store={"url": store.url},
        source={"daily": root / "daily", "commissioned": root / "commissioned"},
        transport={"directory": root / "outbox"},
    )


def deliver(source: MaildirSource, name: str, raw: bytes, *, at: int) -> Path:
    path = source.path / "new" / name
    path.write_bytes(raw)
    os.utime(path, ns=(at, at))  # listing order is by modification time
    return path


async def one_pass(source: MaildirSource) -> list[Fetched]:
    """Every message one pass delivers, within a deadline: a pass must never hang."""

    async def collect() -> list[Fetched]:
        return [fetched async for batch in source.waiting() for fetched in batch]

    return await asyncio.wait_for(collect(), timeout=10)


def unreadable_events(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == "message_unreadable"]


def assert_no_content(logs: Sequence[MutableMapping[str, Any]]) -> None:
    for entry in logs:
        assert SECRET.decode() not in repr(entry)


async def test_a_directory_where_a_message_should_be_is_skipped(source: MaildirSource) -> None:
    blocked = source.path / "new" / "1700000001.M1P1.test"
    blocked.mkdir()
    deliver(source, "1700000002.M2P1.test", message(2), at=2_000_000_000)
    with capture_logs() as logs:
        fetched = await one_pass(source)
    assert [f.key for f in fetched] == ["1700000002.M2P1.test"]
    assert source.unreadable == 1
    (event,) = unreadable_events(logs)
    assert event == {
        "event": "message_unreadable",
        "log_level": "warning",
        "mailbox": "daily",
        "key": "1700000001.M1P1.test",
        "error": "IsADirectoryError",
    }
    await source.file([(fetched[0], Disposition.ACCEPTED)])
    # The operator puts the message in its place: it is read on the next pass.
    blocked.rmdir()
    deliver(source, blocked.name, message(1), at=1_000_000_000)
    with capture_logs() as logs:
        again = await one_pass(source)
    assert [f.key for f in again] == ["1700000001.M1P1.test"]
    assert again[0].raw == message(1)
    assert source.unreadable == 0
    assert [e["event"] for e in logs if e["event"].startswith("message_")] == ["message_readable"]


async def test_a_dangling_link_is_skipped_until_its_target_appears(
    source: MaildirSource, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.eml"
    link = source.path / "cur" / "1700000003.M3P1.test:2,"
    link.symlink_to(target)
    deliver(source, "1700000004.M4P1.test", message(4), at=2_000_000_000)
    with capture_logs() as logs:
        fetched = await one_pass(source)
    assert [f.key for f in fetched] == ["1700000004.M4P1.test"]
    assert source.unreadable == 1
    assert [e["error"] for e in unreadable_events(logs)] == ["FileNotFoundError"]
    target.write_bytes(message(3))
    again = await one_pass(source)
    assert sorted(f.key for f in again) == ["1700000003.M3P1.test", "1700000004.M4P1.test"]
    assert source.unreadable == 0


async def test_a_fifo_does_not_block_the_pass(source: MaildirSource) -> None:
    os.mkfifo(source.path / "new" / "1700000005.M5P1.test")
    deliver(source, "1700000006.M6P1.test", message(6), at=2_000_000_000)
    with capture_logs() as logs:
        fetched = await one_pass(source)
    assert [f.key for f in fetched] == ["1700000006.M6P1.test"]
    assert [e["error"] for e in unreadable_events(logs)] == ["NotAFileError"]
    assert source.unreadable == 1


def refuse(path_name: str) -> Callable[[Path], int]:
    """``maildir._open``, but as if the file named ``path_name`` had no read permission (root has
    every permission, so the error is made here)."""
    real = maildir._open

    def fake(path: Path) -> int:
        if path.name == path_name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    return fake


async def test_a_file_without_permission_is_skipped_and_said_once(
    source: MaildirSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(source, "1700000007.M7P1.test", message(7), at=1_000_000_000)
    deliver(source, "1700000008.M8P1.test", message(8), at=2_000_000_000)
    monkeypatch.setattr(maildir, "_open", refuse("1700000007.M7P1.test"))
    with capture_logs() as logs:
        first = await one_pass(source)
        second = await one_pass(source)  # not filed: seen again, the refused one still skipped
    assert [f.key for f in first] == [f.key for f in second] == ["1700000008.M8P1.test"]
    assert [e["error"] for e in unreadable_events(logs)] == ["PermissionError"]  # once, not every pass
    assert source.unreadable == 1
    assert_no_content(logs)
    monkeypatch.undo()
    third = await one_pass(source)
    assert [f.key for f in third] == ["1700000007.M7P1.test", "1700000008.M8P1.test"]
    assert source.unreadable == 0


async def test_an_unreadable_entry_that_is_removed_is_no_longer_counted(source: MaildirSource) -> None:
    (source.path / "new" / "1700000009.M9P1.test").mkdir()
    await one_pass(source)
    assert source.unreadable == 1
    (source.path / "new" / "1700000009.M9P1.test").rmdir()
    assert await one_pass(source) == []
    assert source.unreadable == 0


async def test_a_message_moved_between_listing_and_reading_is_read_where_it_went(tmp_path: Path) -> None:
    source = MaildirSource(Inbox.DAILY, tmp_path / "daily", fetch_cap=1024 * 1024, batch=1)
    await source.connect()
    deliver(source, "1700000010.M10P1.test", message(10), at=1_000_000_000)
    moved = deliver(source, "1700000011.M11P1.test", message(11), at=2_000_000_000)
    seen = []
    with capture_logs() as logs:
        async for batch in source.waiting():  # listed both; reads one batch at a time
            seen += [f.key for f in batch]
            if moved.exists():  # a mail client takes it into cur/ meanwhile, as mail clients do
                moved.rename(source.path / "cur" / f"{moved.name}:2,S")
    assert seen == ["1700000010.M10P1.test"]
    assert source.unreadable == 0  # gone is not unreadable
    assert unreadable_events(logs) == []
    assert [f.key for f in await one_pass(source)] == ["1700000010.M10P1.test", "1700000011.M11P1.test"]


async def test_the_daemon_files_the_rest_of_an_inbox_with_unreadable_entries(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = embedded(store, tmp_path)
    new = tmp_path / "daily" / "new"
    new.mkdir(parents=True)
    (new / "1700000000.M1P1.blocked").mkdir()
    (new / "1700000000.M2P1.refused").write_bytes(submission(1, at=FIXTURE_TIME, title="天河区另一条信息"))
    (new / "1700000000.M3P1.good").write_bytes(submission(3, at=FIXTURE_TIME))
    monkeypatch.setattr(maildir, "_open", refuse("1700000000.M2P1.refused"))
    daemon = await build_daemon(settings, store, clock=FrozenClock(FIXTURE_TIME))
    await daemon.run(once=True)
    processed = tmp_path / "daily" / ".Processed" / "cur"
    assert [p.name for p in processed.iterdir()] == ["1700000000.M3P1.good:2,S"]
    assert sorted(p.name for p in new.iterdir()) == ["1700000000.M1P1.blocked", "1700000000.M2P1.refused"]
    daily = next(s for s in daemon.sources if s.inbox is Inbox.DAILY)
    assert isinstance(daily, MaildirSource)
    assert daily.unreadable == 2
    # Readable again: the next run files it.
    monkeypatch.undo()
    again = await build_daemon(settings, store, clock=FrozenClock(FIXTURE_TIME))
    await again.run(once=True)
    assert sorted(p.name for p in processed.iterdir()) == [
        "1700000000.M2P1.refused:2,S",
        "1700000000.M3P1.good:2,S",
    ]


@pytest.mark.parametrize(("age_hours", "answered"), [(1, True), (80, False)])
async def test_without_a_received_header_a_file_arrived_when_it_was_delivered(
    store: Store, tmp_path: Path, age_hours: int, answered: bool
) -> None:
    settings = embedded(store, tmp_path)
    clock = FrozenClock(FIXTURE_TIME + dt.timedelta(days=400))  # far from the machine's own clock
    delivered = clock.now() - dt.timedelta(hours=age_hours)
    message = email.message_from_bytes(submission(1, at=delivered), policy=email.policy.SMTP)
    del message["Received"]
    raw = message.as_bytes()
    new = tmp_path / "daily" / "new"
    new.mkdir(parents=True)
    path = new / "1700000000.M1P1.undated"
    path.write_bytes(raw)
    os.utime(path, (delivered.timestamp(), delivered.timestamp()))
    daemon = await build_daemon(settings, store, clock=clock)
    await daemon.run(once=True)
    assert [p.name for p in (tmp_path / "daily" / ".Processed" / "cur").iterdir()] == [f"{path.name}:2,S"]
    written = list((tmp_path / "outbox").glob("*.eml")) if (tmp_path / "outbox").exists() else []
    assert len(written) == (1 if answered else 0)
