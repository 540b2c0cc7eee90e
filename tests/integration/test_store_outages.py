"""`mailgate run` and its database: outages ridden out, one instance a store, each reply once, quick stops."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import email
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from messages import submission
from servers import SmtpSink, free_port
from sqlalchemy import func, select
from tcpproxy import TcpProxy

from integration._daemon import Child, maildir_data
from mailgate.app import build_daemon
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.store import Store
from mailgate.store.models import Outbox
from mailgate.store.store import NewReply

#: What a child given SIGTERM may take to exit, whatever its database is doing.
QUICK_STOP = 6.0


def deliver(root: Path, *raws: bytes, inbox: str = "daily") -> list[str]:
    new = root / inbox / "new"
    new.mkdir(parents=True, exist_ok=True)
    names = []
    for raw in raws:
        name = f"{time.time_ns()}.M{len(names)}P{os.getpid()}.test"
        (new / name).write_bytes(raw)
        names.append(name)
    return names


def items(numbers: range) -> list[bytes]:
    return [submission(n, title=f"天河区第{n}号信息：推进智慧城市建设", at=_now()) for n in numbers]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def replies(root: Path) -> collections.Counter[str]:
    """The .eml replies written so far, by the Message-ID they answer."""
    out = root / "outbox"
    found: collections.Counter[str] = collections.Counter()
    for path in out.glob("*.eml") if out.exists() else ():
        found[str(email.message_from_bytes(path.read_bytes())["In-Reply-To"]).strip("<>")] += 1
    return found


def filed(root: Path, inbox: str = "daily") -> int:
    return sum(
        len(list((root / inbox / folder / "cur").iterdir()))
        for folder in (".Processed", ".Rejected", ".Ignored", ".Quarantine")
        if (root / inbox / folder / "cur").exists()
    )


def until(condition: Any, child: Child, timeout: float = 30.0) -> None:
    """Wait for ``condition`` (looking every 0.1 s: no event crosses the process boundary) while the
    child keeps running."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert child.alive_after(0.1), child.logs()
        assert time.monotonic() < deadline, child.logs()


def mailgate(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailgate", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_second_run_on_one_store_is_refused_in_one_line_and_the_first_stops_on_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    first = Child(maildir_data(tmp_path, database_url), tmp_path)
    first.start()
    try:
        first.until_logged("daemon_started")
        second = mailgate("run", "--config", str(first.config))
        assert second.returncode == 1, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert lines[0].startswith(f"mailgate: another mailgate run (pid {first.pid} on "), lines[0]
        # Only `run` takes the lock: other commands on the store go on.
        export = mailgate("registry", "export", "--config", str(first.config))
        assert export.returncode == 0, export.stderr
        deliver(tmp_path, *items(range(1, 4)))
        until(lambda: sum(replies(tmp_path).values()) == 3, first)
    finally:
        status = first.terminate(timeout=QUICK_STOP)
    assert status == 0, first.logs()
    assert replies(tmp_path) == dict.fromkeys((f"{n}.test@th.gz.gov.cn" for n in range(1, 4)), 1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_run_rides_out_a_postgresql_outage_and_answers_the_mail_after_it(
    database_url: str, tmp_path: Path
) -> None:
    """The server is cut off (every connection dropped, new ones refused) for a while: the daemon
    neither dies nor loses anything. Its instance lock is lost with its session, so the work pauses
    (whichever notices first logs the outage) until the lock is taken back."""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        child = Child(maildir_data(tmp_path, proxy.url(database_url)), tmp_path)
        deliver(tmp_path, *items(range(1, 3)))
        child.start()
        try:
            until(lambda: sum(replies(tmp_path).values()) == 2, child)
            proxy.refuse()
            deliver(tmp_path, *items(range(3, 6)))
            child.until_logged("instance_lock_lost")
            assert child.alive_after(3.0), child.logs()  # some retries later, still running
            assert filed(tmp_path) == 2
            proxy.forward()
            child.until_logged("instance_lock_regained", timeout=30)
            until(lambda: sum(replies(tmp_path).values()) == 5, child)
        finally:
            status = child.terminate(timeout=QUICK_STOP)
    assert status == 0, child.logs()
    assert replies(tmp_path) == dict.fromkeys((f"{n}.test@th.gz.gov.cn" for n in range(1, 6)), 1)
    assert filed(tmp_path) == 5
    log = child.logs()
    assert log.count('"event": "instance_lock_lost"') == 1, log
    assert log.count('"event": "store_unavailable"') <= 1, log  # never once per retry
    assert log.count('"event": "store_unavailable"') == log.count('"event": "store_recovered"'), log
    assert "Traceback" not in log
    assert "SELECT" not in log  # no SQL, no parameters
    assert "INSERT" not in log


def test_sigterm_stops_run_within_seconds_while_the_database_hangs(database_url: str, tmp_path: Path) -> None:
    """PostgreSQL black-holed (connections open, nothing answers); SQLite's write lock held by another
    process (the store would wait 30 s for it): SIGTERM still ends `mailgate run` in seconds, with
    nothing half done, and the next run takes the message up."""
    with TcpProxy("127.0.0.1", 5432) as proxy:
        sqlite = database_url.startswith("sqlite")
        url = database_url if sqlite else proxy.url(database_url)
        child = Child(maildir_data(tmp_path, url), tmp_path)
        deliver(tmp_path, *items(range(1, 2)))
        child.start()
        holder: sqlite3.Connection | None = None
        try:
            until(lambda: sum(replies(tmp_path).values()) == 1, child)
            if sqlite:
                holder = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
                holder.execute("BEGIN IMMEDIATE")
            else:
                proxy.blackhole()
            [late] = deliver(tmp_path, *items(range(2, 3)))
            assert child.alive_after(3.0), child.logs()  # a Maildir poll: the watcher is in the database
            started = time.monotonic()
            status = child.terminate(timeout=QUICK_STOP + 5)
            stopped_in = time.monotonic() - started
        finally:
            if holder is not None:
                holder.close()
            proxy.forward()
        assert status == 0, child.logs()
        assert stopped_in < QUICK_STOP, (stopped_in, child.logs())
        assert late in os.listdir(tmp_path / "daily" / "new")  # not filed: its verdict was never committed
        child.start()
        try:
            until(lambda: sum(replies(tmp_path).values()) == 2, child)
        finally:
            assert child.terminate(timeout=QUICK_STOP) == 0, child.logs()
    assert replies(tmp_path) == {"1.test@th.gz.gov.cn": 1, "2.test@th.gz.gov.cn": 1}


@pytest.mark.parametrize(
    "command",
    [
        ["health"],
        ["db", "upgrade"],
        ["registry", "export"],
        ["user", "list"],
        ["run", "--once"],
        ["serve"],
    ],
)
def test_commands_started_while_the_database_is_unreachable_say_so_in_one_line(
    command: list[str], tmp_path: Path
) -> None:
    url = f"postgresql+asyncpg://mailgate:s3cret@127.0.0.1:{free_port()}/mailgate"  # nothing listens
    data = maildir_data(tmp_path, url)
    config = tmp_path / "mailgate.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    done = mailgate(*command, "--config", str(config))
    assert done.returncode == 1, (done.stdout, done.stderr)
    said = done.stderr.strip().splitlines()
    assert len(said) == 1, done.stderr
    assert "ConnectionRefusedError" in said[0] or "Connect call failed" in said[0], said[0]
    assert "s3cret" not in done.stderr
    assert "Traceback" not in done.stderr


# -- two outbox workers on one store ----------------------------------------------------------------


def reply_raw(n: int) -> bytes:
    return (
        f"From: inf@gzy.gov.cn\r\nTo: r{n}@th.gz.gov.cn\r\nSubject: receipt {n}\r\n"
        f"Message-ID: <reply-{n}@mailgate.invalid>\r\nIn-Reply-To: <{n}.test@th.gz.gov.cn>\r\n"
        "\r\nreceived\r\n"
    ).encode()


async def test_two_daemons_on_one_store_send_each_reply_exactly_once(
    database_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """However a second daemon came to run beside the first (no instance lock here), the outbox rows
    are claimed one worker at a time: the server gets each reply once."""
    count = 300
    stores = [Store(database_url), Store(database_url)]
    await stores[0].create_schema()
    async with stores[0].transaction() as repo:
        now = dt.datetime.now(dt.UTC)
        pk = await repo.add_message(_message(now), now)
        for n in range(count):
            await repo.add_reply(
                NewReply(
                    kind="receipt",
                    sender="inf@gzy.gov.cn",
                    recipient=f"r{n}@th.gz.gov.cn",
                    reply_message_id=f"reply-{n}@mailgate.invalid",
                    raw=reply_raw(n),
                    item_id=None,
                ),
                message_pk=pk,
                now=now,
            )
    daemons: list[Daemon] = []
    for index, store in enumerate(stores):
        data = maildir_data(
            tmp_path / f"d{index}",
            database_url,
            transport={
                "kind": "smtp",
                "smtp": {"host": smtp_sink.host, "port": smtp_sink.port, "security": "none"},
            },
        )
        daemons.append(await build_daemon(Settings(**data), store))
    sent_by = [0 for _ in daemons]
    all_sent = asyncio.Event()
    for index, daemon in enumerate(daemons):
        sent = daemon.queue.sent

        async def counting(outbox_id: int, at: dt.datetime, sent: Any = sent, index: int = index) -> bool:
            done: bool = await sent(outbox_id, at)
            sent_by[index] += done
            if sum(sent_by) >= count:
                all_sent.set()
            return done

        daemon.queue.sent = counting  # type: ignore[method-assign]
    tasks = [asyncio.create_task(daemon.run()) for daemon in daemons]
    try:
        await asyncio.wait_for(all_sent.wait(), 60)
        assert await _open(stores[0]) == 0
    finally:
        for daemon in daemons:
            daemon.stop()
        await asyncio.gather(*tasks)
        for store in stores:
            await store.close()
    delivered = collections.Counter(
        str(email.message_from_bytes(m.raw)["Message-ID"]) for m in smtp_sink.messages
    )
    assert len(delivered) == count
    assert set(delivered.values()) == {1}, [mid for mid, n in delivered.items() if n > 1][:5]
    assert len(smtp_sink.messages) == count
    assert min(sent_by) > 0, sent_by  # both really sent
    assert sum(sent_by) == count


async def _open(store: Store) -> int:
    async with store.reading() as repo:
        return int(
            await repo.session.scalar(
                select(func.count())
                .select_from(Outbox)
                .where(Outbox.status.in_(("pending", "claimed", "sending")))
            )
            or 0
        )


def _message(now: dt.datetime) -> Any:
    from mailgate.store import NewMessage

    return NewMessage(
        mailbox="daily",
        uidvalidity=None,
        uid=None,
        source_key="k1",
        message_id="m@x",
        content_hash="0" * 64,
        size=1,
        from_address="xxy@th.gz.gov.cn",
        subject="s",
        unit_id=None,
        received_at=now,
        verdict="accepted",
        findings=[],
        raw=None,
    )
