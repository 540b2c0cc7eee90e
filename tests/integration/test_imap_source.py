"""ImapSource against a real Dovecot: batches, oversize mail, filing, IDLE, UIDVALIDITY, outages."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from servers import Dovecot

from mailgate.config import FolderSettings, ImapAccount, ImapSettings
from mailgate.errors import SourceError
from mailgate.sources import Checkpoint, Disposition, Fetched
from mailgate.sources._imap_wire import mailbox_name, parse_fetch, parse_internaldate, parse_search, uid_set
from mailgate.sources.imap import QUARANTINE_KEYWORD, ImapSource
from rules import Inbox

USER = "daily"


def message(n: int, *, padding: int = 0) -> bytes:
    return (
        f"From: 天河区政府办 <thxx{n}@example.gov.cn>\r\n"
        f"To: daily@example.gov.cn\r\n"
        f"Subject: =?utf-8?b?5rWL6K+V?= {n}\r\n"
        f"Message-ID: <{n}@test.invalid>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"天河区软件产业园区建设成效明显 {n}\r\n" + "x" * padding + "\r\n"
    ).encode()


class MemoryCheckpoints:
    """The store's checkpoint table, in memory."""

    def __init__(self) -> None:
        self.saved: dict[str, Checkpoint] = {}

    async def load(self, mailbox: str) -> Checkpoint | None:
        return self.saved.get(mailbox)

    async def save(self, mailbox: str, checkpoint: Checkpoint) -> None:
        self.saved[mailbox] = checkpoint


SourceFactory = Callable[..., ImapSource]


@pytest.fixture
async def make_source(dovecot: Dovecot) -> AsyncIterator[SourceFactory]:
    """Builds ImapSources for the "daily" user (short timeouts) and closes them all at teardown."""
    made: list[ImapSource] = []

    def build(
        *,
        checkpoints: MemoryCheckpoints | None = None,
        fetch_cap: int = 10**6,
        password: str = "secret",
        **settings: Any,
    ) -> ImapSource:
        options: dict[str, Any] = {
            "host": dovecot.host,
            "port": dovecot.port,
            "security": "none",
            "timeout_seconds": 2.0,
            "filing": "none",
        }
        options.update(settings)
        source = ImapSource(
            Inbox.DAILY,
            ImapSettings(**options),
            ImapAccount(username=USER, password=password),
            checkpoints or MemoryCheckpoints(),
            fetch_cap=fetch_cap,
        )
        made.append(source)
        return source

    yield build
    for source in made:
        await source.close()


async def collect(source: ImapSource) -> list[list[Fetched]]:
    return [batch async for batch in source.waiting()]


def flat(batches: list[list[Fetched]]) -> list[Fetched]:
    return [f for batch in batches for f in batch]


def search(dovecot: Dovecot, *criteria: str) -> list[int]:
    with dovecot.session(USER) as client:
        client.select("INBOX")
        _, data = client.uid("SEARCH", *criteria)
    return [int(uid) for uid in data[0].split()]


# -- wire helpers ---------------------------------------------------------------------------------


def expand(text: str) -> list[int]:
    uids: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition(":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


@given(st.sets(st.integers(1, 5000), min_size=1))
def test_uid_set_compresses_runs_and_keeps_every_uid(uids: set[int]) -> None:
    text = uid_set(uids)
    assert expand(text) == sorted(uids)
    runs = [expand(part) for part in text.split(",")]
    assert all(a[-1] + 1 < b[0] for a, b in itertools.pairwise(runs))  # runs are maximal


def test_uid_set_examples() -> None:
    assert uid_set([5, 1, 2, 3, 4, 9, 12, *range(13, 21)]) == "1:5,9,12:20"
    assert uid_set([7]) == "7"
    assert uid_set(range(1, 2001)) == "1:2000"
    assert len(uid_set(range(1, 2001, 2))) < 10_000
    with pytest.raises(ValueError, match="empty"):
        uid_set([])


def test_mailbox_names_are_quoted_in_modified_utf7() -> None:
    assert mailbox_name("INBOX") == '"INBOX"'
    assert mailbox_name("台北/日本語") == '"&U,BTFw-/&ZeVnLIqe-"'  # RFC 3501 5.1.3
    assert mailbox_name("R&D") == '"R&-D"'
    assert mailbox_name('a "b" \\c') == '"a \\"b\\" \\\\c"'


def test_fetch_response_parsing_is_robust() -> None:
    lines: list[bytes | bytearray] = [
        b"3 FETCH (FLAGS (\\Seen))",  # unsolicited, no UID
        b"1 FETCH (BODY[] {5}",
        bytearray(b"hello"),
        b" UID 11 RFC822.SIZE 5)",
        b'2 FETCH (UID 12 RFC822.SIZE 999 INTERNALDATE " 7-Jul-2024 08:09:10 +0800" BODY[HEADER] {3}',
        bytearray(b"h\r\n"),
        b")",
        b"Fetch completed.",
    ]
    items = parse_fetch(lines)
    assert sorted(items) == [11, 12]
    assert (items[11].body, items[11].size) == (b"hello", 5)
    assert (items[12].body, items[12].size) == (b"h\r\n", 999)
    assert items[12].internaldate == dt.datetime(2024, 7, 7, 0, 9, 10, tzinfo=dt.UTC)
    assert parse_internaldate("31-Feb-2024 00:00:00 +0000") is None
    assert parse_search([b"4 2 9", b"Search completed."]) == [2, 4, 9]
    assert parse_search([b"", b"Search completed."]) == []


# -- fetching -------------------------------------------------------------------------------------


async def test_fetches_in_batches_oldest_first_bytes_identical(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    sent = [message(n) for n in range(250)]
    dovecot.drop_into_maildir(USER, "INBOX", sent)
    source = make_source(batch=100)
    await source.connect()
    with structlog.testing.capture_logs() as logs:
        batches = await collect(source)
    assert [len(b) for b in batches] == [100, 100, 50]
    fetched = flat(batches)
    assert sorted(f.raw for f in fetched) == sorted(sent)
    uids = [f.uid for f in fetched]
    assert uids == sorted(uids) == list(range(1, 251))
    uidvalidity = dovecot.uidvalidity(USER, "INBOX")
    first = fetched[0]
    assert (first.key, first.uidvalidity, first.inbox) == (f"{uidvalidity}:1", uidvalidity, Inbox.DAILY)
    assert (first.size, first.truncated) == (len(first.raw), False)
    assert first.arrived_at is not None
    assert first.arrived_at.utcoffset() is not None
    assert abs(first.arrived_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    events = [e for e in logs if e["event"] == "imap_batch_fetched"]
    assert [(e["count"], e["first_uid"], e["last_uid"]) for e in events] == [
        (100, 1, 100),
        (100, 101, 200),
        (50, 201, 250),
    ]


async def test_oversized_mail_is_fetched_header_only_with_its_real_size(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    small, big = message(1), message(2, padding=5000)
    dovecot.append(USER, "INBOX", small, big)
    source = make_source(fetch_cap=2000)
    await source.connect()
    fetched = flat(await collect(source))
    whole, header_only = fetched
    assert whole.raw == small
    assert header_only.raw == big[: big.index(b"\r\n\r\n") + 4]
    assert header_only.size == len(big)
    assert header_only.truncated


async def test_two_thousand_messages_in_sparse_sets_never_overflow_a_command(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    dovecot.drop_into_maildir(USER, "INBOX", (message(n) for n in range(2000)))
    source = make_source(filing="seen", batch=100)
    await source.connect()
    started = time.perf_counter()
    batches = await collect(source)
    elapsed = time.perf_counter() - started
    assert [len(b) for b in batches] == [100] * 20
    print(f"fetched 2000 messages in {elapsed:.2f} s: {2000 / elapsed:.0f} msgs/s")
    every_other = [(f, Disposition.ACCEPTED) for f in flat(batches)[::2]]
    await source.file(every_other)
    wide = make_source(filing="seen", batch=1000)  # 1,000 scattered UIDs in one command
    await wide.connect()
    remaining = await collect(wide)
    assert [len(b) for b in remaining] == [1000]
    assert [f.uid for f in remaining[0]] == list(range(2, 2001, 2))


# -- filing ---------------------------------------------------------------------------------------


async def test_move_files_each_disposition_into_its_folder(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    dovecot.append(USER, "INBOX", *(message(n) for n in range(5)))
    checkpoints = MemoryCheckpoints()
    folders = FolderSettings(accepted="已采用")
    source = make_source(filing="move", folders=folders, checkpoints=checkpoints)
    await source.connect()
    fetched = flat(await collect(source))
    dispositions = [Disposition.ACCEPTED, Disposition.ACCEPTED, Disposition.REJECTED]
    dispositions += [Disposition.IGNORED, Disposition.QUARANTINED]
    with structlog.testing.capture_logs() as logs:
        await source.file(list(zip(fetched, dispositions, strict=True)))
    assert dovecot.mailbox_uids(USER, "INBOX") == []
    assert len(dovecot.mailbox_uids(USER, "&XfKRx3Uo-")) == 2  # 已采用 in modified UTF-7
    for folder in ("Rejected", "Ignored", "Quarantine"):
        assert len(dovecot.mailbox_uids(USER, folder)) == 1
    assert checkpoints.saved["daily"].last_uid == 5
    assert [e["accepted"] for e in logs if e["event"] == "imap_filed"] == [2]
    assert await collect(source) == []


async def test_move_without_the_move_extension_copies_and_expunges(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    dovecot.append(USER, "INBOX", message(1), message(2), message(3))
    source = make_source(filing="move")
    await source.connect()
    session = source._session
    assert session is not None
    session.capabilities = session.capabilities - {"MOVE"}
    fetched = flat(await collect(source))
    await source.file([(fetched[0], Disposition.REJECTED), (fetched[2], Disposition.REJECTED)])
    assert dovecot.mailbox_uids(USER, "INBOX") == [2]
    assert len(dovecot.mailbox_uids(USER, "Rejected")) == 2


async def test_seen_flags_messages_and_waiting_skips_them(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    dovecot.append(USER, "INBOX", message(1), message(2), message(3))
    source = make_source(filing="seen")
    await source.connect()
    fetched = flat(await collect(source))
    await source.file([(fetched[0], Disposition.ACCEPTED), (fetched[1], Disposition.REJECTED)])
    assert search(dovecot, "SEEN") == [1, 2]
    assert [f.uid for f in flat(await collect(source))] == [3]


async def test_none_leaves_mail_alone_and_the_checkpoint_remembers(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    dovecot.append(USER, "INBOX", message(1), message(2), message(3))
    checkpoints = MemoryCheckpoints()
    source = make_source(filing="none", checkpoints=checkpoints)
    await source.connect()
    fetched = flat(await collect(source))
    await source.file([(fetched[0], Disposition.ACCEPTED), (fetched[1], Disposition.IGNORED)])
    assert search(dovecot, "SEEN") == []
    assert checkpoints.saved["daily"] == Checkpoint(fetched[0].uidvalidity or 0, 2)
    restarted = make_source(filing="none", checkpoints=checkpoints)
    await restarted.connect()
    assert [f.uid for f in flat(await collect(restarted))] == [3]
    await restarted.file([(fetched[2], Disposition.ACCEPTED)])
    assert await collect(restarted) == []  # 3:* would match UID 3 again without the filter


async def test_quarantined_mail_is_never_fetched_again(dovecot: Dovecot, make_source: SourceFactory) -> None:
    dovecot.append(USER, "INBOX", message(1), message(2))
    source = make_source(filing="seen")
    await source.connect()
    fetched = flat(await collect(source))
    await source.file([(fetched[0], Disposition.QUARANTINED)])
    assert search(dovecot, "KEYWORD", QUARANTINE_KEYWORD) == [1]
    with dovecot.session(USER) as client:  # an operator marks it unread again
        client.select("INBOX")
        client.uid("STORE", "1", "-FLAGS", "(\\Seen)")
    assert [f.uid for f in flat(await collect(source))] == [2]


async def test_a_stale_uidvalidity_is_not_filed(dovecot: Dovecot, make_source: SourceFactory) -> None:
    dovecot.append(USER, "INBOX", message(1))
    source = make_source(filing="seen")
    await source.connect()
    (old,) = flat(await collect(source))
    stale = Fetched(old.inbox, "1:1", old.raw, old.size, old.arrived_at, uidvalidity=1, uid=old.uid)
    with structlog.testing.capture_logs() as logs:
        await source.file([(stale, Disposition.ACCEPTED)])
    assert search(dovecot, "SEEN") == []
    assert [e["count"] for e in logs if e["event"] == "imap_file_skipped"] == [1]


# -- connecting -----------------------------------------------------------------------------------


async def test_connect_is_idempotent_and_records_uidvalidity(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    checkpoints = MemoryCheckpoints()
    source = make_source(checkpoints=checkpoints)
    with structlog.testing.capture_logs() as logs:
        await source.connect()
        await source.connect()
    assert [e["event"] for e in logs].count("imap_connected") == 1
    changed = [e for e in logs if e["event"] == "uidvalidity_changed"]
    uidvalidity = dovecot.uidvalidity(USER, "INBOX")
    assert [(e["old"], e["new"]) for e in changed] == [(None, uidvalidity)]
    assert checkpoints.saved["daily"] == Checkpoint(uidvalidity, 0)


async def test_a_new_uidvalidity_resets_the_checkpoint(dovecot: Dovecot, make_source: SourceFactory) -> None:
    dovecot.append(USER, "INBOX", message(1), message(2))
    checkpoints = MemoryCheckpoints()
    source = make_source(checkpoints=checkpoints)
    await source.connect()
    fetched = flat(await collect(source))
    await source.file([(f, Disposition.ACCEPTED) for f in fetched])
    old = checkpoints.saved["daily"]
    assert old.last_uid == 2
    await source.close()
    new = dovecot.set_uidvalidity(USER, "INBOX")
    with structlog.testing.capture_logs() as logs:
        await source.connect()
    changed = [e for e in logs if e["event"] == "uidvalidity_changed"]
    assert [(e["mailbox"], e["old"], e["new"]) for e in changed] == [("daily", old.uidvalidity, new)]
    assert checkpoints.saved["daily"] == Checkpoint(new, 0)
    again = flat(await collect(source))
    assert [f.key for f in again] == [f"{new}:1", f"{new}:2"]


async def test_wrong_password_is_a_source_error_that_does_not_show_it(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    source = make_source(password="not-the-Secret-42")
    with (
        structlog.testing.capture_logs() as logs,
        pytest.raises(SourceError, match="login as daily refused") as err,
    ):
        await source.connect()
    assert "not-the-Secret-42" not in str(err.value) + repr(logs)


async def test_a_killed_server_is_a_source_error_and_connect_recovers(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    dovecot.append(USER, "INBOX", message(1))
    source = make_source(timeout_seconds=1.0)
    await source.connect()
    dovecot.kill()
    async with asyncio.timeout(3):
        with pytest.raises(SourceError):
            await collect(source)
        with pytest.raises(SourceError, match="connect"):
            await source.connect()
    dovecot.start()
    await source.connect()
    assert [f.uid for f in flat(await collect(source))] == [1]


async def test_a_server_killed_during_idle_ends_the_wait_at_once(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    source = make_source()
    await source.connect()
    assert await collect(source) == []
    with structlog.testing.capture_logs() as logs:
        waiting = asyncio.create_task(source.wait(30))
        await asyncio.to_thread(dovecot.kill)
        async with asyncio.timeout(3):
            with pytest.raises(SourceError, match="connection lost"):
                await waiting
    assert [e["mailbox"] for e in logs if e["event"] == "imap_connection_lost"] == ["daily"]
    with pytest.raises(SourceError, match="was lost"):
        await source.wait(1)


class SilentServer:
    """An IMAP server that logs anyone in and selects, then never answers again."""

    def __init__(self) -> None:
        self.connections = 0
        self._handlers: list[tuple[asyncio.Task[None], asyncio.StreamWriter]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.append((task, writer))
        writer.write(b"* OK ready\r\n")
        replies = {
            b"CAPABILITY": b"* CAPABILITY IMAP4rev1 IDLE\r\n",
            b"LOGIN": b"",
            b"SELECT": b"* 0 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n",
        }
        while line := await reader.readline():
            tag, command = line.split()[:2]
            if command.upper() in replies:
                writer.write(replies[command.upper()] + tag + b" OK done\r\n")
        writer.close()

    async def close(self) -> None:
        """Hang up on every client and wait for the handlers to end."""
        for _, writer in self._handlers:
            writer.close()
        await asyncio.gather(*(task for task, _ in self._handlers))


async def test_a_server_that_stops_answering_times_out_and_is_replaced() -> None:
    server = SilentServer()
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    settings = ImapSettings(host="127.0.0.1", port=port, security="none", timeout_seconds=0.3, filing="seen")
    source = ImapSource(
        Inbox.DAILY, settings, ImapAccount(username=USER, password="x"), MemoryCheckpoints(), fetch_cap=1000
    )
    try:
        await source.connect()
        started = time.perf_counter()
        with pytest.raises(SourceError, match=r"no answer within 0\.3 s"):
            await collect(source)
        assert time.perf_counter() - started < 2
        await source.connect()
        assert server.connections == 2
    finally:
        await source.close()
        listener.close()
        await server.close()
        await listener.wait_closed()


# -- waiting --------------------------------------------------------------------------------------


async def test_idle_wakes_when_another_client_appends(dovecot: Dovecot, make_source: SourceFactory) -> None:
    source = make_source()
    await source.connect()
    assert await collect(source) == []
    waiting = asyncio.create_task(source.wait(10))
    await asyncio.to_thread(dovecot.append, USER, "INBOX", message(1))
    appended = time.perf_counter()
    async with asyncio.timeout(4):
        assert await waiting is True
    print(f"IDLE woke {1000 * (time.perf_counter() - appended):.0f} ms after the APPEND")
    assert [f.uid for f in flat(await collect(source))] == [1]


async def test_mail_that_arrived_before_idle_wakes_at_once(
    dovecot: Dovecot, make_source: SourceFactory
) -> None:
    source = make_source()
    await source.connect()
    assert await collect(source) == []
    dovecot.append(USER, "INBOX", message(1))
    started = time.perf_counter()
    with structlog.testing.capture_logs() as logs:
        assert await source.wait(10) is True
    assert time.perf_counter() - started < 0.4  # before Dovecot's ~0.5 s push could have come
    assert [e["reason"] for e in logs if e["event"] == "imap_idle_woken"] == ["arrived before IDLE"]


async def test_idle_returns_false_when_time_runs_out(dovecot: Dovecot, make_source: SourceFactory) -> None:
    source = make_source()
    await source.connect()
    assert await collect(source) == []
    started = time.perf_counter()
    assert await source.wait(0.3) is False
    assert 0.3 <= time.perf_counter() - started < 1.5
    dovecot.append(USER, "INBOX", message(1))
    assert [f.uid for f in flat(await collect(source))] == [1]  # the session still works after DONE


@pytest.mark.parametrize("filing", ["seen", "none"])
async def test_mail_that_stays_in_the_inbox_does_not_wake_idle(
    dovecot: Dovecot, make_source: SourceFactory, filing: str
) -> None:
    dovecot.append(USER, "INBOX", message(1), message(2))
    checkpoints = MemoryCheckpoints()
    source = make_source(filing=filing, checkpoints=checkpoints)
    await source.connect()
    first, second = flat(await collect(source))
    await source.file([(first, Disposition.ACCEPTED)])
    if filing == "seen":
        with dovecot.session(USER) as client:  # an operator reads the other one first
            client.select("INBOX")
            client.uid("STORE", str(second.uid), "+FLAGS", "(\\Seen)")
    else:
        await source.file([(second, Disposition.ACCEPTED)])
    assert await collect(source) == []
    restarted = make_source(filing=filing, checkpoints=checkpoints)  # has not searched yet
    await restarted.connect()
    for waiter in (source, restarted):
        assert await waiter.wait(0.2) is False  # not woken, over and over, by mail already handled


async def test_without_idle_wait_is_one_poll_interval(dovecot: Dovecot, make_source: SourceFactory) -> None:
    source = make_source(idle=False, poll_seconds=0.05)
    await source.connect()
    started = time.perf_counter()
    assert await source.wait(10) is False
    assert 0.05 <= time.perf_counter() - started < 1


async def test_calls_without_a_connection_are_source_errors(make_source: SourceFactory) -> None:
    source = make_source()
    with pytest.raises(SourceError, match="not connected"):
        await source.wait(1)
    with pytest.raises(SourceError, match="not connected"):
        await collect(source)
