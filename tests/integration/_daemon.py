"""The daemon against the fixture Dovecot and SMTP sink: settings, in this process or as `mailgate run`."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import email
import email.policy
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import tomli_w
from messages import REGISTRY, submission
from servers import Dovecot, ReceivedMail, SmtpSink
from sqlalchemy import func, select

from mailgate.app import build_daemon
from mailgate.clock import SYSTEM_CLOCK, Clock
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.sources.base import Disposition, Fetched
from mailgate.store import Store

#: The IMAP users of the fixture Dovecot (tests/integration/conftest.py) and their password.
PASSWORD = "secret"
#: The clock the daemons of these tests run on, in this process as in a child: the machine's (under
#: faketime, the faked one), so that retries come due. Every message they get is dated by it.
CLOCK: Clock = SYSTEM_CLOCK


def fresh(n: int = 1, **fields: Any) -> bytes:
    """``submission(n, ...)`` that arrived a minute ago by :data:`CLOCK`, and was signed that day."""
    return submission(n, at=CLOCK.now() - dt.timedelta(minutes=1), **fields)


def settings_data(dovecot: Dovecot, sink: SmtpSink, root: Path, **overrides: Any) -> dict[str, Any]:
    """Settings (as TOML-ready data) for IMAP in, SMTP out and SQLite in ``root``; quick retries.

    ``overrides`` are merged section by section, at any depth.
    """
    registry = root / "registry.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    data: dict[str, Any] = {
        "registry_file": str(registry),
        "log_level": "info",
        "store": {"url": f"sqlite+aiosqlite:///{root / 'mailgate.db'}"},
        "source": {
            "kind": "imap",
            "imap": {
                "host": dovecot.host,
                "port": dovecot.port,
                "security": "none",
                "timeout_seconds": 5.0,
                "backoff_min_seconds": 0.05,
                "backoff_max_seconds": 0.5,
                "filing": "move",
                "daily": {"username": "daily", "password": PASSWORD},
                "commissioned": {"username": "commissioned", "password": PASSWORD},
            },
        },
        "transport": {"kind": "smtp", "smtp": {"host": sink.host, "port": sink.port, "security": "none"}},
        "replies": {"per_address_per_hour": 10**6, "retry_min_seconds": 0.1, "retry_max_seconds": 0.5},
    }
    return _merge(data, overrides)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        merged[key] = _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def maildir_data(root: Path, url: str, **overrides: Any) -> dict[str, Any]:
    """Settings (as TOML-ready data): Maildir in and .eml files out under ``root``, the store at ``url``."""
    root.mkdir(parents=True, exist_ok=True)
    registry = root / "registry.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    data: dict[str, Any] = {
        "registry_file": str(registry),
        "log_level": "info",
        "store": {"url": url},
        "source": {
            "kind": "maildir",
            "daily": str(root / "daily"),
            "commissioned": str(root / "commissioned"),
        },
        "transport": {"kind": "files", "directory": str(root / "outbox")},
        "replies": {"per_address_per_hour": 10**6},
    }
    return _merge(data, overrides)


# -- what arrived at the sink ---------------------------------------------------------------------


def parsed(mail: ReceivedMail) -> EmailMessage:
    """A reply as the sink received it, parsed."""
    message = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(mail: ReceivedMail) -> str:
    """The decoded plain-text body of a reply."""
    body = parsed(mail).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def answered(sink: SmtpSink) -> collections.Counter[str]:
    """How many replies the sink received for each original Message-ID (by In-Reply-To, without <>)."""
    return collections.Counter(str(parsed(m)["In-Reply-To"]).strip("<>") for m in sink.messages)


# -- the daemon in this process -------------------------------------------------------------------


class Running:
    """A daemon running as a task of the test's event loop, watched through its sources.

    Every filing the daemon makes and every wait it starts is recorded, and wakes :meth:`until`.
    """

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.store = daemon.store
        #: UIDs filed per inbox, by their UIDVALIDITY: {("daily", uidvalidity): {uid, ...}}.
        self.filed: dict[tuple[str, int | None], set[int]] = collections.defaultdict(set)
        #: What each ``wait`` of each inbox returned (True: new mail was pushed or found).
        self.woken: dict[str, list[bool]] = collections.defaultdict(list)
        self.waiting: set[str] = set()
        #: Failed sends per outbox row, and the rows sent.
        self.deferred: collections.Counter[int] = collections.Counter()
        self.sent: set[int] = set()
        self._changed = asyncio.Condition()
        for source in daemon.sources:
            self._watch(source)
        self._watch_outbox()
        self.task = asyncio.create_task(daemon.run())
        self.task.add_done_callback(lambda _: asyncio.ensure_future(self._notify()))

    @classmethod
    async def start(cls, data: dict[str, Any], clock: Clock = CLOCK) -> Running:
        """Create the schema in the settings' store, build the daemon on ``clock`` and start it."""
        settings = Settings(**data)
        store = Store(settings.store.url)
        await store.create_schema()
        return cls(await build_daemon(settings, store, clock=clock))

    def _watch(self, source: Any) -> None:
        name = source.inbox.value
        file, wait = source.file, source.wait

        async def filing(filed: Sequence[tuple[Fetched, Disposition]]) -> None:
            await file(filed)
            for fetched, _ in filed:
                if fetched.uid is not None:
                    self.filed[(name, fetched.uidvalidity)].add(fetched.uid)
            await self._notify()

        async def waiting(at_most: float) -> bool:
            self.waiting.add(name)
            await self._notify()
            try:
                woken: bool = await wait(at_most)
            finally:
                self.waiting.discard(name)
            self.woken[name].append(woken)
            await self._notify()
            return woken

        source.file, source.wait = filing, waiting

    def _watch_outbox(self) -> None:
        queue = self.daemon.queue
        retry, sent = queue.retry, queue.sent

        async def retrying(outbox_id: int, error: str, attempts: int, at: dt.datetime) -> None:
            await retry(outbox_id, error, attempts, at)
            self.deferred[outbox_id] += 1
            await self._notify()

        async def sending_done(outbox_id: int, now: dt.datetime) -> None:
            await sent(outbox_id, now)
            self.sent.add(outbox_id)
            await self._notify()

        queue.retry, queue.sent = retrying, sending_done  # type: ignore[method-assign]

    def filed_count(self, inbox: str = "daily") -> int:
        """Distinct messages of ``inbox`` filed so far, whatever their UIDVALIDITY."""
        return sum(len(uids) for (name, _), uids in self.filed.items() if name == inbox)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once ``condition`` holds (checked after every filing and wait); fail if the daemon died."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.task.done() or condition())
        if not condition():
            self.task.result()  # raises what ended the daemon
            raise AssertionError("the daemon stopped before the condition held")

    async def stop(self) -> None:
        """SIGTERM's path: finish the message in hand, then return once the daemon has stopped."""
        self.daemon.stop()
        await asyncio.wait_for(self.task, 10)
        await self.store.close()

    async def count(self, model: Any, *where: Any) -> int:
        async with self.store.transaction() as repo:
            return int(await repo.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.store.transaction() as repo:
            query = select(model).where(*where).order_by(*model.__mapper__.primary_key)
            return list(await repo.session.scalars(query))


# -- the daemon as a child process ----------------------------------------------------------------


class Child:
    """`python -m mailgate run --config FILE` as a child process, its log in a file of its own."""

    def __init__(self, data: dict[str, Any], root: Path) -> None:
        self.root = root
        self.config = root / "mailgate.toml"
        self.config.write_text(tomli_w.dumps(data), encoding="utf-8")
        url = data["store"]["url"]
        #: The SQLite database file (None for PostgreSQL).
        self.database = Path(url.removeprefix("sqlite+aiosqlite:///")) if url.startswith("sqlite") else None
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None, "already running"
        self.runs += 1
        with (self.root / f"run-{self.runs}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mailgate", "run", "--config", str(self.config)],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive_after(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the child to exit; True if it is still running then."""
        assert self.process is not None
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM killer would."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def terminate(self, timeout: float) -> int:
        """SIGTERM; the exit status (TimeoutExpired if the child takes longer than ``timeout``)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGTERM)
        status = self.process.wait(timeout)
        self.process = None
        return status

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def until_logged(self, event: str, timeout: float = 20.0) -> None:
        """Wait until the current run has logged ``event`` (looking every 0.1 s: no event crosses the
        process boundary); fail if the child exits first."""
        deadline = time.monotonic() + timeout
        while f'"event": "{event}"' not in self.log():
            assert self.alive_after(0.1), self.logs()
            assert time.monotonic() < deadline, f"no {event} within {timeout} s:\n{self.logs()}"

    def log(self) -> str:
        """What the current run logged so far."""
        return (self.root / f"run-{self.runs}.log").read_text(errors="replace")

    def logs(self) -> str:
        """Everything every run logged, for failure messages."""
        return "".join(
            (self.root / f"run-{n}.log").read_text(errors="replace") for n in range(1, self.runs + 1)
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` from the child's SQLite database; none while it does not exist yet."""
        if self.database is None or not self.database.exists():
            return []
        connection = sqlite3.connect(self.database, timeout=5)
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the schema is not there yet
            return []
        finally:
            connection.close()

    def progress(self) -> tuple[int, int]:
        """Messages with a verdict, and replies not yet through (pending, claimed, or in the middle of a
        send)."""
        rows = self.query(
            "SELECT (SELECT count(*) FROM messages),"
            " (SELECT count(*) FROM outbox WHERE status IN ('pending', 'claimed', 'sending'))"
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
